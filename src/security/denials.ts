// Refused attempts in the audit log: a page for administrators asked for by a user (403), another user's mailbox
// (404 to the user, so it cannot tell it exists). The refusing code marks the response; one app-level hook writes
// the entry when the response is sent, with who asked, what and why (never the query string: it may carry codes).
import type { Request, RequestHandler, Response } from 'express';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import { actorOf, audit } from './audit.ts';

export interface Denial {
  reason: string;
  targetType?: string;
  targetId?: string;
}

/** Marks this response as a refusal to audit (written once it is sent as a 403 or 404). */
export function markDenied(res: Response | undefined, d: Denial): void {
  if (res) res.locals.denied = d;
}

export function auditDenials(prisma: PrismaClient, logger: Logger): RequestHandler {
  return (req: Request, res: Response, next) => {
    res.on('finish', () => {
      const d = res.locals.denied as Denial | undefined;
      if (!d || (res.statusCode !== 403 && res.statusCode !== 404)) return;
      audit(prisma, {
        action: 'access.denied',
        result: 'DENIED',
        targetType: d.targetType,
        targetId: d.targetId,
        ...actorOf(req),
        details: { method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, reason: d.reason },
      }).catch((err) => logger.warn({ err }, 'a refused request could not be audited'));
    });
    next();
  };
}
