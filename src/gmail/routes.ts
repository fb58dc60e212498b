// Sign in to Gmail routes: start (per mailbox, or one-click Connect Gmail), Google's callback, Disconnect, and
// the admins' manual refresh token form. Mounted at the root because the callback path is fixed.
import { Router, type Request, type Response, type NextFunction } from 'express';
import type { Authenticator } from 'passport';
import type { AppDeps } from '../deps.ts';
import { currentUser, requireAdmin, requireLogin } from '../auth/guards.ts';
import { audit, actorOf } from '../security/audit.ts';
import { fieldErrors, type FieldErrors } from '../web/forms.ts';
import { flash } from '../web/flash.ts';
import { loadMailboxFor, type MailboxDetail } from '../mailboxes/access.ts';
import { GMAIL_PROFILE_CAPACITY } from '../mailboxes/capacity.ts';
import { mailboxView } from '../mailboxes/view-model.ts';
import { GMAIL_REDIRECT_PATH } from '../profiles/redirect-uri.ts';
import { profileClient } from './credentials.ts';
import { GmailFlowStore, type PendingFlow } from './flow-store.ts';
import { gmailStrategy, startGmailFlow } from './strategy.ts';
import { gmailCallback } from './callback.ts';
import { disconnectGmail } from './disconnect.ts';
import { revokeNote } from './grants.ts';
import { connectWithRefreshToken, manualTokenSchema } from './manual-token.ts';
import { renderResult } from './pages.ts';

export function gmailRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();

  function start(req: Request, res: Response, next: NextFunction, creds: { clientId: string; clientSecret: string },
    pending: Pick<PendingFlow, 'kind' | 'mailboxId' | 'profileId'>, loginHint?: string): void {
    res.set('Cache-Control', 'no-store');
    const strategy = gmailStrategy(deps.config, creds, new GmailFlowStore(currentUser(req).id, pending));
    startGmailFlow(req.app.locals.passport as Authenticator, strategy, loginHint)(req, res, next);
  }

  r.get('/mailboxes/connect-gmail', requireLogin, async (req, res, next) => {
    const profile = await prisma.emailServerProfile.findFirst({ where: { isDefaultGmail: true, authenticateUsing: 'GMAIL_OAUTH' }, orderBy: { createdAt: 'asc' },
      include: { _count: { select: { mailboxes: true } } } });
    if (!profile) return renderResult(res, 409, { title: 'Connect Gmail is not set up', message: 'There is no default Gmail profile. Ask your administrator to choose a default Gmail profile.' });
    if (profile._count.mailboxes >= GMAIL_PROFILE_CAPACITY) {
      return renderResult(res, 409, { title: 'Connect Gmail is full', message: `The default Gmail profile already serves ${GMAIL_PROFILE_CAPACITY} mailboxes. Ask your administrator to create another Gmail profile and make it the default.` });
    }
    const client = profileClient(deps.sealer, profile);
    if (!client.ok) return renderResult(res, 409, { title: 'Connect Gmail is not set up', message: client.problem });
    start(req, res, next, client.creds, { kind: 'connect', profileId: profile.id });
  });

  r.get('/mailboxes/:id/gmail/signin', requireLogin, async (req, res, next) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    const client = profileClient(deps.sealer, mailbox.profile);
    if (!client.ok) return renderResult(res, 409, { title: 'Cannot Sign in to Gmail', message: client.problem, mailboxId: mailbox.id });
    start(req, res, next, client.creds, { kind: 'mailbox', mailboxId: mailbox.id, profileId: mailbox.profileId! }, mailbox.emailAddress);
  });

  r.get(GMAIL_REDIRECT_PATH, gmailCallback(deps));

  r.post('/mailboxes/:id/gmail/disconnect', requireLogin, async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    const revoked = await disconnectGmail(deps, mailbox, actorOf(req));
    if (revoked === 'none') flash(req, 'info', 'This mailbox was not signed in to Gmail.');
    else flash(req, revoked === 'failed' ? 'warning' : 'success', `Disconnected from Gmail (${mailbox.grant?.googleEmail}).${revokeNote(revoked)}`);
    res.redirect(303, `/mailboxes/${mailbox.id}`);
  });

  const tokenPage = (res: Response, status: number, mailbox: MailboxDetail, values: Record<string, string>, errors: FieldErrors) => {
    const client = profileClient(deps.sealer, mailbox.profile);
    res.status(status).render('gmail/token', { title: `Refresh token for ${mailbox.name}`, mailbox: mailboxView(mailbox),
      problem: client.ok ? null : client.problem, values: { googleEmail: mailbox.emailAddress, ...values }, errors });
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
    const result = await connectWithRefreshToken(deps, mailbox, client.creds, parsed.data);
    if (!result.ok) return tokenPage(res, 422, mailbox, values, result.errors);
    await audit(prisma, { action: 'gmail.connect', targetType: 'Mailbox', targetId: mailbox.id, ...actorOf(req),
      details: { googleEmail: result.googleEmail, scopes: result.scope, via: 'refresh-token' } });
    deps.logger.info({ mailboxId: mailbox.id, googleEmail: result.googleEmail }, 'Gmail connected with a pasted refresh token');
    flash(req, 'success', `Refresh token checked with Google and saved: the mailbox uses the Gmail account ${result.googleEmail}.`);
    res.redirect(303, `/mailboxes/${mailbox.id}`);
  });

  return r;
}
