// GET /_grid/cmds/dlg_gmailoauth.aspx: Google's answer. The mailbox and profile come from the pending flow the
// state names in this session, never from the query. Nothing is stored unless every check passes.
import type { Request, Response } from 'express';
import type { Authenticator } from 'passport';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import type { PublicUser } from '../auth/users.ts';
import { audit } from '../security/audit.ts';
import { flash } from '../web/flash.ts';
import { HttpError } from '../web/errors.ts';
import { loadMailboxForUser, type MailboxDetail } from '../mailboxes/access.ts';
import { dropFlow, findFlow, GmailFlowStore, type PendingFlow } from './flow-store.ts';
import { profileClient } from './credentials.ts';
import { finishGmailFlow, FlowStateError, gmailStrategy, type GmailAccount } from './strategy.ts';
import { GoogleOAuthError } from './google-client.ts';
import { checkGoogleAccount } from './account-check.ts';
import { revokeQuietly } from './grants.ts';
import { createConnectedMailbox, SignInRefused, storeMailboxGrant } from './complete.ts';
import { FLOW_PROBLEMS, googleErrorPage, renderResult } from './pages.ts';

const callbackQuery = z.object({
  state: z.string().max(200).optional(),
  code: z.string().max(4096).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(4000).optional(),
});

type Target = { mailbox: MailboxDetail | null; clientId: string; creds: { clientId: string; clientSecret: string } };

/** The mailbox (kind 'mailbox') and the profile's OAuth client the flow started with, still valid now. */
async function loadTarget(deps: AppDeps, user: PublicUser, flow: PendingFlow): Promise<Target | string> {
  let mailbox: MailboxDetail | null = null;
  let profile;
  if (flow.kind === 'mailbox') {
    mailbox = await loadMailboxForUser(deps.db.prisma, user, flow.mailboxId).catch((e: unknown) => { if (e instanceof HttpError) return null; throw e; });
    if (!mailbox) return 'The mailbox no longer exists, or you no longer have access to it.';
    if (mailbox.profileId !== flow.profileId) return 'The mailbox’s email server profile changed while you were signing in to Google. Start again with Sign in to Gmail.';
    profile = mailbox.profile;
  } else {
    profile = await deps.db.prisma.emailServerProfile.findUnique({ where: { id: flow.profileId } });
  }
  const client = profileClient(deps.sealer, profile);
  if (!client.ok) return client.problem;
  return { mailbox, clientId: client.creds.clientId, creds: client.creds };
}

export function gmailCallback(deps: AppDeps) {
  const { prisma } = deps.db;

  return async (req: Request, res: Response): Promise<void> => {
    res.set('Cache-Control', 'no-store');
    const user = req.user as PublicUser | undefined;
    if (!user) return renderResult(res, 400, FLOW_PROBLEMS['signed-out']);
    const q = callbackQuery.safeParse(req.query);
    const query = q.success ? q.data : {};
    const found = findFlow(req, query.state, user.id, Date.now());
    if (!found.ok) return renderResult(res, 400, FLOW_PROBLEMS[found.reason]);
    const { flow } = found;
    const state = query.state!;
    const who = { actor: user, ip: req.ip ?? null };
    const fail = async (reason: string, details: Record<string, unknown> = {}) =>
      audit(prisma, { action: 'gmail.connect', result: 'FAILURE', targetType: 'Mailbox', targetId: flow.mailboxId, ...who, details: { reason, via: flow.kind, ...details } });

    if (query.error || !query.code) {
      dropFlow(req, state);
      await fail(query.error ?? 'no-code');
      return renderResult(res, 400, googleErrorPage(query.error ?? 'no_code', query.error_description, flow.mailboxId));
    }

    const target = await loadTarget(deps, user, flow);
    if (typeof target === 'string') {
      dropFlow(req, state);
      await fail('target-changed');
      return renderResult(res, 400, { title: 'Cannot finish signing in', message: `${target} Nothing was saved.`, mailboxId: flow.mailboxId });
    }

    let account: GmailAccount;
    try {
      const strategy = gmailStrategy(deps.config, target.creds, new GmailFlowStore(user.id));
      account = await finishGmailFlow(req.app.locals.passport as Authenticator, strategy, req, res);
    } catch (e) {
      dropFlow(req, state);
      if (e instanceof FlowStateError) return renderResult(res, 400, FLOW_PROBLEMS.unknown);
      if (!(e instanceof GoogleOAuthError)) throw e;
      await fail('token-exchange', { error: e.error, status: e.status ?? null });
      deps.logger.warn({ error: e.error, status: e.status, mailboxId: flow.mailboxId }, 'Gmail code exchange failed');
      return renderResult(res, e.transient ? 502 : 400, { title: 'Google did not accept the sign-in', mailboxId: flow.mailboxId, detail: e.description,
        message: e.transient
          ? `Google could not be reached or had a temporary problem (${e.error}). Nothing was saved. Try Sign in to Gmail again in a minute.`
          : `Google refused to exchange the sign-in for tokens (${e.error}). Nothing was saved. Start again with Sign in to Gmail; if it keeps happening, check the profile's client ID and secret.` });
    }

    const googleEmail = account.userinfo.email?.toLowerCase() ?? '';
    // Not revoked when any mailbox (this one included) already holds this account on this client: Google would
    // revoke that working grant too.
    const revokeNew = () => revokeQuietly(deps, account.token.refresh_token ?? account.token.access_token, { googleEmail, clientId: target.clientId });
    const problem = checkGoogleAccount({ scope: account.token.scope, userinfo: account.userinfo }, target.mailbox?.emailAddress);
    if (problem) {
      const revoked = await revokeNew();
      await fail(problem.code, { googleEmail: problem.googleEmail ?? null, scopes: account.token.scope, revoked });
      return renderResult(res, 400, { title: 'Gmail not connected', message: `${problem.message} Nothing was saved.`, mailboxId: flow.mailboxId });
    }

    let mailboxId: string;
    let needsReconsent: boolean;
    try {
      if (flow.kind === 'mailbox') {
        mailboxId = flow.mailboxId!;
        ({ needsReconsent } = await storeMailboxGrant(deps, flow, googleEmail, account));
      } else {
        const made = await createConnectedMailbox(deps, flow, user, googleEmail, account);
        mailboxId = made.mailbox.id;
        needsReconsent = made.needsReconsent;
        await audit(prisma, { action: 'mailbox.create', targetType: 'Mailbox', targetId: mailboxId, ...who, details: { emailAddress: googleEmail, via: 'connect-gmail' } });
      }
    } catch (e) {
      if (!(e instanceof SignInRefused)) throw e;
      const revoked = await revokeNew();
      await fail(e.reason, { googleEmail, revoked });
      return renderResult(res, 400, { title: 'Gmail not connected', message: `${e.message} Nothing was saved.`, mailboxId: flow.mailboxId });
    }

    await audit(prisma, { action: 'gmail.connect', targetType: 'Mailbox', targetId: mailboxId, ...who,
      details: { googleEmail, scopes: account.token.scope, via: flow.kind === 'mailbox' ? 'sign-in' : 'connect-gmail', needsReconsent } });
    deps.logger.info({ mailboxId, googleEmail, needsReconsent }, 'Gmail connected');
    flash(req, 'success', `Signed in to Gmail as ${googleEmail}.${flow.kind === 'connect' ? ' Your mailbox was created; an administrator must approve its email address.' : ''}`);
    if (needsReconsent) {
      flash(req, 'warning', 'Google did not return a refresh token, so Mailroom cannot renew access on its own. Sign in again with consent: remove Mailroom at myaccount.google.com/permissions, then use Sign in to Gmail again.');
    }
    res.redirect(303, `/mailboxes/${mailboxId}`);
  };
}
