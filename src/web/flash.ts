// One-shot messages carried across a redirect in the session, read (and cleared) by the layout.
import type { Request, Response, NextFunction } from 'express';
import type { Flash } from '../types/express.d.ts';

export function flash(req: Request, type: Flash['type'], text: string, o: Pick<Flash, 'until'> = {}): void {
  (req.session.flash ??= []).push({ type, text, ...o });
}

export function flashLocals(req: Request, res: Response, next: NextFunction): void {
  res.locals.takeFlash = (): Flash[] => {
    const messages = req.session?.flash ?? [];
    if (req.session) delete req.session.flash;
    return messages;
  };
  next();
}
