// createApp(deps) → the Express app, not listening. Server start-up and tests both build it here.
import express, { type Express, type Request, type Response, type NextFunction } from 'express';
import session from 'express-session';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { resolve } from 'node:path';
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import type { Logger } from './logger.ts';
import type { Sealer } from './security/secrets.ts';
import type { Jobs } from './jobs/boss.ts';
import { PrismaSessionStore } from './auth/session-store.ts';
import { authenticate, publicUserSelect, type PublicUser } from './auth/users.ts';
import { requireLogin } from './auth/guards.ts';
import { authRoutes } from './auth/routes.ts';
import { userRoutes } from './users/routes.ts';
import { auditRoutes } from './audit/routes.ts';
import { gmailRoutes } from './gmail/routes.ts';
import { mailboxRoutes } from './mailboxes/routes.ts';
import { profileRoutes } from './profiles/routes.ts';
import { checkRoutes } from './checks/routes.ts';
import { createCsrf } from './security/csrf.ts';
import { flashLocals } from './web/flash.ts';
import { notFound, errorHandler } from './web/errors.ts';
import { createGoogleClient, type GoogleClient } from './gmail/google-client.ts';
import { mailboxTests, type MailboxTests } from './checks/job.ts';
import type { AppDeps, AppOptions } from './deps.ts';

export type { AppDeps, AppOptions };
import { credentialsFor } from './checks/credentials.ts';
import { KeyedLimiter } from './checks/limiter.ts';

const ROOT = resolve(import.meta.dirname, '..');

export function createApp(options: AppOptions): Express & { locals: { close: () => void } } {
  const secure = options.config.publicUrl.startsWith('https://');
  const deps: AppDeps = { ...options, google: options.google ?? createGoogleClient(options.config.google), sessionCookieName: secure ? '__Host-mailroom.sid' : 'mailroom.sid' };
  const { config, db } = deps;
  if (deps.jobs) deps.tests = createMailboxTests(deps);
  const app = express();
  app.set('views', resolve(ROOT, 'views'));
  app.set('view engine', 'ejs');
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  if (config.env === 'production') app.set('view cache', true);

  app.use(helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: { 'script-src': ["'self'"], 'form-action': ["'self'"], 'upgrade-insecure-requests': secure ? [] : null },
    },
    strictTransportSecurity: secure,
  }));
  app.get('/healthz', async (_req, res) => {
    try { await db.raw.query('SELECT 1'); res.type('text').send('ok'); } catch { res.status(503).type('text').send('database unavailable'); }
  });
  app.use(express.static(resolve(ROOT, 'public'), { maxAge: config.env === 'production' ? '1h' : 0, index: false }));
  app.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 2000 }));
  app.use(express.json({ limit: '64kb' }));
  app.use(cookieParser());

  const store = new PrismaSessionStore(db.prisma, config.sessionIdleMinutes * 60_000);
  app.locals.close = () => undefined; // nothing to release: expired sessions are swept by the worker's schedule
  app.use(session({
    name: deps.sessionCookieName,
    secret: config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true, // every request pushes the idle timeout forward
    cookie: { httpOnly: true, sameSite: 'lax', secure, maxAge: config.sessionIdleMinutes * 60_000, path: '/' },
  }));

  const passport = new Passport();
  passport.use(new LocalStrategy({ usernameField: 'email' }, (email, password, done) => {
    authenticate(db.prisma, email, password).then((u) => done(null, u ?? false), done);
  }));
  passport.serializeUser((user, done) => done(null, (user as PublicUser).id));
  passport.deserializeUser((id: string, done) => {
    db.prisma.user.findUnique({ where: { id }, select: publicUserSelect })
      .then((u) => done(null, u && !u.disabledAt ? u : false), done);
  });
  app.use(passport.initialize());
  app.use(passport.session());
  app.locals.passport = passport;
  app.locals.tests = deps.tests;

  const { doubleCsrfProtection, generateCsrfToken } = createCsrf(config.sessionSecret, secure);
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.locals.user = req.user ?? null;
    res.locals.path = req.path;
    res.locals.publicUrl = config.publicUrl;
    let token: string | undefined;
    res.locals.csrfToken = () => (token ??= generateCsrfToken(req, res, { overwrite: false, validateOnReuse: false }));
    next();
  });
  app.use(flashLocals);
  app.use(doubleCsrfProtection);

  app.use(authRoutes(deps));
  app.get('/', requireLogin, (req, res) => res.render('home', { title: 'Mailroom' }));
  app.use('/admin/users', requireLogin, userRoutes(deps));
  app.use('/admin/audit', requireLogin, auditRoutes(deps));
  // Feature routes (one line each):
  app.use(gmailRoutes(deps)); // before /mailboxes: owns /mailboxes/connect-gmail and /mailboxes/:id/gmail/*, and the fixed callback path
  app.use(checkRoutes(deps)); // Test & Enable: /mailboxes/test…, /mailboxes/:id/test, /profiles/:id/test-all
  app.use('/mailboxes', requireLogin, mailboxRoutes(deps));
  app.use('/profiles', requireLogin, profileRoutes(deps));

  app.use(notFound);
  app.use(errorHandler(deps.logger, config.env === 'development'));
  return app as Express & { locals: { close: () => void } };
}

function createMailboxTests(deps: AppDeps): MailboxTests {
  const { config, db, logger, sealer } = deps;
  const c = deps.checks ?? {};
  return mailboxTests({
    prisma: db.prisma, jobs: deps.jobs!, logger, embedded: db.kind === 'pglite',
    settings: {
      retryLimit: c.retryLimit ?? config.checks.retryLimit, retryBaseMs: c.retryBaseMs ?? 5_000,
      expireInSeconds: c.expireInSeconds ?? 120, workers: c.workers ?? config.checks.globalConcurrency,
      pollingIntervalSeconds: c.pollingIntervalSeconds ?? 1,
    },
    env: {
      credentials: credentialsFor({ prisma: db.prisma, sealer, google: deps.google, logger }),
      limiter: new KeyedLimiter(), ca: deps.mailTlsCa,
      connectTimeoutMs: c.connectTimeoutMs, totalTimeoutMs: c.totalTimeoutMs,
    },
  });
}
