// Login throttling: per IP and per account, answered with 429 and a page that says when to try again.
import { rateLimit, type Options } from 'express-rate-limit';
import type { Request, Response } from 'express';

const tooMany: Options['handler'] = (req: Request, res: Response, _next, options) => {
  res.status(options.statusCode).render('auth/login', {
    title: 'Sign in',
    email: typeof req.body?.email === 'string' ? req.body.email : '',
    error: 'Too many sign-in attempts. Wait 15 minutes and try again.',
  });
};

export function loginLimiters(opts: { perIp?: number; perAccount?: number; windowMs?: number } = {}) {
  const windowMs = opts.windowMs ?? 15 * 60 * 1000;
  const perIp = rateLimit({
    windowMs,
    limit: opts.perIp ?? 50,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: tooMany,
  });
  const perAccount = rateLimit({
    windowMs,
    limit: opts.perAccount ?? 10,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: tooMany,
    skipSuccessfulRequests: true,
    keyGenerator: (req) =>
      `acct:${String(req.body?.email ?? '')
        .trim()
        .toLowerCase()}`,
  });
  return [perIp, perAccount];
}
