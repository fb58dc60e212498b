// Sign in to Gmail routes: start (per mailbox, or one-click Connect Gmail), Google's callback, Disconnect, and
// the admins' manual refresh token form. Mounted at the root because the callback path is fixed.
import { Router, type Request, type Response, type NextFunction } from 'express';
import type { AppDeps } from '../deps.ts';
import { currentUser, requireAdmin, requireLogin } from '../auth/guards.ts';
import { actorOf } from '../security/audit.ts';
import { fieldErrors, type FieldErrors } from '../web/forms.ts';
import { flash } from '../web/flash.ts';
import { loadMailboxFor, type MailboxDetail } from '../mailboxes/access.ts';
import { mailboxView } from '../mailboxes/view-model.ts';
import { GMAIL_REDIRECT_PATH } from '../profiles/redirect-uri.ts';
import { profileClient } from './credentials.ts';
import { pendingFlowStore } from './flow-store.ts';
import { gmailStrategy, startGmailFlow } from './strategy.ts';
import { gmailCallback } from './callback.ts';
import { signInFailed } from './failure.ts';
import { disconnectGmail } from './disconnect.ts';
import { revokeNote } from './grants.ts';
import { connectWithRefreshToken, manualTokenSchema } from './manual-token.ts';
import { renderResult } from './pages.ts';
import { connectGmailSchema, connectStart, mailboxStart, type Start } from './signin.ts';

export function gmailRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();

  /** Off to Google's consent screen with the start's OAuth client; a start that cannot work says why (409). */
  function start(req: Request, res: Response, next: NextFunction, s: Start): void {
    res.set('Cache-Control', 'no-store');
    if (!s.ok) return renderResult(res, 409, s.page);
    const store = pendingFlowStore({ ...s.pending, userId: currentUser(req).id });
    startGmailFlow(gmailStrategy(deps.config, deps.google, s.creds, store), s.loginHint, req, res, next);
  }

  // Connect Gmail asks for the address first (a GET form), then starts the flow with it as Google's login_hint.
  r.get('/mailboxes/connect-gmail', requireLogin, async (req, res, next) => {
    const s = await connectStart(deps);
    if (!s.ok) return start(req, res, next, s);
    if (req.query.email === undefined) return connectPage(res, 200, '', {});
    const parsed = connectGmailSchema.safeParse(req.query);
    if (!parsed.success)
      return connectPage(
        res,
        422,
        typeof req.query.email === 'string' ? req.query.email : '',
        fieldErrors(parsed.error),
      );
    start(req, res, next, { ...s, loginHint: parsed.data.email });
  });

  r.get('/mailboxes/:id/gmail/signin', requireLogin, async (req, res, next) =>
    start(req, res, next, mailboxStart(deps, await loadMailboxFor(prisma, req, req.params.id))),
  );

  r.get(GMAIL_REDIRECT_PATH, gmailCallback(deps), signInFailed(deps));

  r.post('/mailboxes/:id/gmail/disconnect', requireLogin, async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    const revoked = await disconnectGmail(deps, mailbox, actorOf(req));
    if (revoked === 'none') flash(req, 'info', 'This mailbox was not signed in to Gmail.');
    else
      flash(
        req,
        revoked === 'failed' ? 'warning' : 'success',
        `Disconnected from Gmail (${mailbox.grant?.googleEmail}): the mailbox is no longer enabled for incoming or outgoing email.${revokeNote(revoked)}`,
      );
    res.redirect(303, `/mailboxes/${mailbox.id}`);
  });

  const connectPage = (res: Response, status: number, email: string, errors: FieldErrors) =>
    res.status(status).render('gmail/connect', { title: 'Connect Gmail', values: { email }, errors });

  const tokenPage = (
    res: Response,
    status: number,
    mailbox: MailboxDetail,
    values: Record<string, string>,
    errors: FieldErrors,
  ) => {
    const client = profileClient(deps.sealer, mailbox.profile);
    res.status(status).render('gmail/token', {
      title: `Refresh token for ${mailbox.name}`,
      mailbox: mailboxView(mailbox),
      problem: client.ok ? null : client.problem,
      values: { googleEmail: mailbox.emailAddress, ...values },
      errors,
    });
  };

  r.get('/mailboxes/:id/gmail/token', requireLogin, requireAdmin, async (req, res) => {
    tokenPage(res, 200, await loadMailboxFor(prisma, req, req.params.id), {}, {});
  });

  r.post('/mailboxes/:id/gmail/token', requireLogin, requireAdmin, async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    const client = profileClient(deps.sealer, mailbox.profile);
    const body = req.body as Record<string, unknown>;
    const values = { googleEmail: typeof body.googleEmail === 'string' ? body.googleEmail : '' };
    if (!client.ok) return tokenPage(res, 409, mailbox, values, {});
    const parsed = manualTokenSchema.safeParse(body);
    if (!parsed.success) return tokenPage(res, 422, mailbox, values, fieldErrors(parsed.error));
    const result = await connectWithRefreshToken(deps, mailbox, client.creds, parsed.data, actorOf(req));
    if (!result.ok) return tokenPage(res, 422, mailbox, values, result.errors);
    flash(
      req,
      'success',
      `Refresh token checked with Google and saved: the mailbox uses the Gmail account ${result.googleEmail}.`,
    );
    res.redirect(303, `/mailboxes/${mailbox.id}`);
  });

  return r;
}
