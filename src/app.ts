// createApp(deps) → the Express app, HTTP only, not listening: pages, sessions, CSRF, error pages. It starts no
// worker; jobs are queued through deps and run wherever startWorkers (workers.ts) runs. Server and tests build it here.
import express, { type Express, type Request, type Response, type NextFunction } from 'express';
import session from 'express-session';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import { Passport } from 'passport';
import { resolve } from 'node:path';
import { readdirSync } from 'node:fs';
import type { AppDeps } from './deps.ts';
import { PrismaSessionStore } from './auth/session-store.ts';
import { publicUserSelect, type PublicUser } from './auth/users.ts';
import { requireLogin } from './auth/guards.ts';
import { authRoutes } from './auth/routes.ts';
import { userRoutes } from './users/routes.ts';
import { auditRoutes } from './audit/routes.ts';
import { gmailRoutes } from './gmail/routes.ts';
import { mailboxRoutes } from './mailboxes/routes.ts';
import { profileRoutes } from './profiles/routes.ts';
import { checkRoutes } from './checks/routes.ts';
import { bulkRoutes } from './bulk/routes.ts';
import { importRoutes } from './imports/routes.ts';
import { csvUpload } from './imports/upload.ts';
import { emailRoutes } from './emails/routes.ts';
import { alertRoutes } from './alerts/routes.ts';
import { apiRoutes } from './api/routes.ts';
import { tokenRoutes } from './tokens/routes.ts';
import { recentErrorsLocals } from './alerts/recent.ts';
import { createCsrf } from './security/csrf.ts';
import { auditDenials } from './security/denials.ts';
import { flashLocals } from './web/flash.ts';
import { notFound, errorHandler, requirePathTarget } from './web/errors.ts';
import { healthz } from './web/health.ts';
import { objectBody } from './web/forms.ts';
import { ROOT } from './paths.ts';

export function createApp(deps: AppDeps): Express {
  const { config, db } = deps;
  const secure = config.publicUrl.startsWith('https://');
  const app = express();
  app.set('views', resolve(ROOT, 'views'));
  app.set('view engine', 'ejs');
  // Views include each other by paths from views/ ('/partials/head'): EJS resolves those without a file-system check,
  // where a relative include cost an existsSync() on every render (issue 15).
  // compileDebug off outside development: with it, EJS sets a line counter before every template line (a look-up
  // through the template's `with` scope, 50 rows × every line of a list) to name the line of an error (decision 033).
  app.set('view options', { root: resolve(ROOT, 'views'), compileDebug: config.env === 'development' });
  app.set('trust proxy', config.trustProxy); // TRUST_PROXY: whose X-Forwarded-For names the client (req.ip)
  app.disable('x-powered-by');
  // No ETag: Express hashed every response's whole body (a list page: ~90 kB through SHA-1) for a 304 that pages,
  // fresh on every visit, never get (decision 033). Static files keep theirs (express.static sets its own).
  app.set('etag', false);
  // Express's own fallback page prints stacks unless its env is production, and reads NODE_ENV, which `npm start` does
  // not set: take the env from config (production unless NODE_ENV says otherwise).
  app.set('env', config.env);
  if (config.env === 'production') app.set('view cache', true);

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'script-src': ["'self'"],
          'form-action': ["'self'"],
          'upgrade-insecure-requests': secure ? [] : null,
        },
      },
      strictTransportSecurity: secure,
    }),
  );
  app.use(requirePathTarget);
  app.get('/healthz', healthz(db));
  // Only paths into public/'s own folders and files reach the file system: otherwise every page paid a stat() for a
  // file that is not there (issue 15: a tenth of a list page's CPU on a busy machine).
  const publicDir = resolve(ROOT, 'public');
  const assets = express.static(publicDir, { maxAge: config.env === 'production' ? '1h' : 0, index: false });
  const publicEntries = new Set(readdirSync(publicDir));
  app.use((req, res, next) => (publicEntries.has(req.path.split('/', 2)[1]) ? assets(req, res, next) : next()));
  app.use('/api', apiRoutes(deps)); // before the session: the API reads no cookie, so it needs no CSRF token
  app.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 1000 })); // more fields: 413
  app.use(express.json({ limit: '64kb' }));
  app.use(objectBody);
  app.use(cookieParser());

  const store = new PrismaSessionStore(db, {
    idleMs: config.sessionIdleMinutes * 60_000,
    maxMs: config.sessionMaxHours * 3_600_000,
    cacheMs: config.sessionCacheMs,
  });
  app.use(
    session({
      name: deps.sessionCookieName,
      secret: config.sessionSecret,
      store,
      resave: false,
      saveUninitialized: false,
      rolling: true, // every request pushes the idle timeout forward
      cookie: { httpOnly: true, sameSite: 'lax', secure, maxAge: config.sessionIdleMinutes * 60_000, path: '/' },
    }),
  );

  // Passport keeps the signed-in user in the session (sign-in itself checks the password in auth/routes.ts).
  const passport = new Passport();
  passport.serializeUser((user, done) => done(null, (user as PublicUser).id));
  // The session store read the user with the session row (one statement, not two): take it when it is this one.
  passport.deserializeUser((req: Request, id: string, done: (err: unknown, user?: PublicUser | false) => void) => {
    const read = store.userReadWith(req.sessionID);
    const found =
      read && read.id === id
        ? Promise.resolve(read)
        : db.prisma.user.findUnique({ where: { id }, select: publicUserSelect });
    found.then((u) => done(null, u && !u.disabledAt ? u : false), done);
  });
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(auditDenials(db.prisma, deps.logger)); // refused attempts (403 admin pages, 404 others' mailboxes)

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
  app.use(recentErrorsLocals(db.prisma));
  app.post('/mailboxes/import', csvUpload); // the upload's form (with its CSRF token) is multipart: parse it first
  app.use(doubleCsrfProtection);

  app.use(authRoutes(deps));
  app.get('/', requireLogin, (_req, res) => res.render('home', { title: 'Mailroom' }));
  app.use('/admin/users', requireLogin, userRoutes(deps));
  app.use('/admin/audit', requireLogin, auditRoutes(deps));
  app.use(['/account/tokens', '/admin/tokens'], requireLogin);
  app.use(tokenRoutes(deps)); // API tokens: /account/tokens (own), /admin/tokens (everyone's)
  // Feature routes (one line each):
  app.use('/mailboxes/import', requireLogin, importRoutes(deps)); // before /mailboxes/:id
  app.use('/mailboxes/bulk', requireLogin, bulkRoutes(deps)); // before checkRoutes' /mailboxes/:id/test
  app.use(gmailRoutes(deps)); // before /mailboxes: owns /mailboxes/connect-gmail and /mailboxes/:id/gmail/*, and the fixed callback path
  app.use(checkRoutes(deps)); // Test & Enable: /mailboxes/test…, /mailboxes/:id/test, /profiles/:id/test-all
  app.use('/mailboxes', requireLogin, mailboxRoutes(deps));
  app.use('/profiles', requireLogin, profileRoutes(deps));
  app.use('/emails', requireLogin, emailRoutes(deps));
  app.use('/alerts', requireLogin, alertRoutes(deps));

  app.use(notFound);
  app.use(errorHandler(deps.logger, config.env === 'development'));
  return app;
}
