// Sign in, sign out and first-run setup pages.
import { Router, type Request, type Response, type NextFunction } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { authenticate, countUsers, createUser, newUserSchema, type PublicUser } from './users.ts';
import { checkSetupToken, clearSetupToken } from './setup.ts';
import { audit } from '../security/audit.ts';
import { DEFAULT_LIMITS, LoginThrottle } from '../security/login-throttle.ts';
import { knownDevices } from '../security/known-device.ts';
import { fieldErrors } from '../web/forms.ts';

const loginSchema = z.object({ email: z.string().max(320), password: z.string().max(1000) });

function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}

/** Regenerates the session id (passport does it in req.login) and keeps returnTo across it. */
function logIn(req: Request, user: PublicUser): Promise<string> {
  const returnTo = safeReturnTo(req.session.returnTo);
  return new Promise((resolve, reject) => req.login(user, (err) => (err ? reject(err) : resolve(returnTo))));
}

export function authRoutes(deps: AppDeps): Router {
  const {
    db: { prisma },
  } = deps;
  const r = Router();

  r.get('/login', (req, res) => {
    if (req.isAuthenticated()) return res.redirect(303, '/');
    req.session.anon = true; // persist the anonymous session so its CSRF token survives until the POST
    res.render('auth/login', { title: 'Sign in', email: '', error: null });
  });

  const throttle = new LoginThrottle(deps.db.raw, { ...DEFAULT_LIMITS, ...deps.limits?.login });
  const devices = knownDevices(deps.config.sessionSecret, deps.config.publicUrl.startsWith('https://'));

  r.post('/login', async (req, res) => {
    const parsed = loginSchema.safeParse(req.body);
    const email = parsed.success ? parsed.data.email.trim().toLowerCase() : '';
    const ip = req.ip ?? '';
    const attempt = await throttle.admit({ account: email, ip, device: devices.idFor(req, email) });
    if (!attempt.verdict.allow) {
      const { bucket } = attempt.verdict;
      await throttle.refused(attempt.id);
      await audit(prisma, {
        action: 'auth.login',
        result: 'DENIED',
        targetType: 'User',
        details: { email, throttled: bucket, failures: attempt.counts[bucket] },
        ip,
      });
      deps.logger.warn(
        { email, ip, bucket, retryAfterSeconds: attempt.retryAfterSeconds },
        'sign-in refused: too many failed attempts',
      );
      const minutes = Math.ceil(attempt.retryAfterSeconds / 60);
      return res
        .status(429)
        .set('Retry-After', String(attempt.retryAfterSeconds))
        .render('auth/login', {
          title: 'Sign in',
          email,
          error: `Too many sign-in attempts. Wait ${minutes} minute${minutes === 1 ? '' : 's'} and try again.`,
        });
    }
    const user = parsed.success ? await authenticate(prisma, email, parsed.data.password) : null;
    if (!user) {
      // The attempt's row stays: it is a failure now.
      await audit(prisma, {
        action: 'auth.login',
        result: 'FAILURE',
        targetType: 'User',
        details: { email },
        ip,
      });
      deps.logger.info({ email }, 'sign-in failed');
      return res
        .status(401)
        .render('auth/login', { title: 'Sign in', email, error: 'Email or password is incorrect.' });
    }
    await throttle.succeeded(attempt.id);
    devices.remember(req, res, email);
    const to = await logIn(req, user);
    await audit(prisma, { action: 'auth.login', targetType: 'User', targetId: user.id, actor: user, ip });
    res.redirect(303, to);
  });

  r.post('/logout', async (req: Request, res: Response, next: NextFunction) => {
    const user = req.user as PublicUser | undefined;
    if (user)
      await audit(prisma, { action: 'auth.logout', targetType: 'User', targetId: user.id, actor: user, ip: req.ip });
    req.logout((err) => {
      if (err) return next(err);
      req.session.destroy(() => {
        res.clearCookie(deps.sessionCookieName, { path: '/' });
        res.redirect(303, '/login');
      });
    });
  });

  r.get('/setup', async (req, res) => {
    if ((await countUsers(prisma)) > 0)
      return res
        .status(404)
        .render('errors/error', { title: 'Not found', status: 404, message: 'Setup is complete. Sign in instead.' });
    if (typeof req.query.token === 'string') {
      if (!(await checkSetupToken(prisma, deps.sealer, req.query.token))) {
        return res.status(403).render('errors/error', {
          title: 'Setup link not valid',
          status: 403,
          message: 'This setup link is not valid. Use the link printed in the server log at start-up.',
        });
      }
      req.session.setupOk = true;
      return res.redirect(303, '/setup'); // take the token out of the address bar and history
    }
    if (!req.session.setupOk)
      return res.status(403).render('errors/error', {
        title: 'Setup link required',
        status: 403,
        message: 'Open the one-time setup link printed in the server log at start-up.',
      });
    res.render('auth/setup', { title: 'Create the first administrator', values: {}, errors: {} });
  });

  r.post('/setup', async (req, res) => {
    if (!req.session.setupOk || (await countUsers(prisma)) > 0)
      return res.status(403).render('errors/error', {
        title: 'Not allowed',
        status: 403,
        message: 'Setup is complete or the setup link was not opened.',
      });
    const body = req.body as Record<string, string>;
    const parsed = newUserSchema.safeParse({ ...body, role: 'ADMIN' });
    const errors = parsed.success ? {} : fieldErrors(parsed.error);
    if (parsed.success && body.password !== body.confirmPassword) errors.confirmPassword = 'The passwords do not match';
    if (!parsed.success || Object.keys(errors).length) {
      return res.status(422).render('auth/setup', {
        title: 'Create the first administrator',
        values: { email: body.email, name: body.name },
        errors,
      });
    }
    const user = await createUser(prisma, parsed.data);
    await clearSetupToken(prisma);
    delete req.session.setupOk;
    await audit(prisma, {
      action: 'user.create',
      targetType: 'User',
      targetId: user.id,
      actor: user,
      ip: req.ip,
      details: { email: user.email, role: user.role, via: 'setup' },
    });
    await logIn(req, user);
    res.redirect(303, '/');
  });

  return r;
}
