// Route guards: signed in, admin only. A USER on an admin page gets 403; no session goes to the sign-in page.
import type { Request, Response, NextFunction } from 'express';
import type { PublicUser } from './users.ts';
import { markDenied } from '../security/denials.ts';

export function currentUser(req: Request): PublicUser {
  return req.user as PublicUser;
}

export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (req.isAuthenticated()) return next();
  if (req.method === 'GET' && req.accepts(['html', 'json']) === 'html') {
    req.session.returnTo = req.originalUrl;
    return res.redirect(303, '/login');
  }
  res.status(401).render('errors/error', {
    title: 'Sign in required',
    status: 401,
    message: 'Your session has ended. Sign in again.',
  });
}

export function requireAdmin(req: Request, res: Response, next: NextFunction): void {
  if ((req.user as PublicUser | undefined)?.role === 'ADMIN') return next();
  markDenied(res, { reason: 'administrators only' });
  res
    .status(403)
    .render('errors/error', { title: 'Not allowed', status: 403, message: 'This page is for administrators.' });
}
