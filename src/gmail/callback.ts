// GET /_grid/cmds/dlg_gmailoauth.aspx: Google's answer, as a chain of named steps. The mailbox and profile come from
// the pending flow the state names in this session, never from the query. Any step may throw a SignInFailure;
// signInFailed (failure.ts) is the one handler. Nothing is stored unless every step passes.
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import type { PublicUser } from '../auth/users.ts';
import { audit, actorOf } from '../security/audit.ts';
import { flash } from '../web/flash.ts';
import { checkGoogleAccount } from './account-check.ts';
import { storeSignIn, SignInRefused, type Stored } from './complete.ts';
import { SignInFailure } from './failure.ts';
import { takeFlow, takenFlowStore, type PendingFlow } from './flow-store.ts';
import { GoogleOAuthError } from './google-client.ts';
import { FLOW_PROBLEMS, googleErrorPage, startAgain } from './pages.ts';
import { loadTarget, type SignInTarget } from './signin.ts';
import { finishGmailFlow, FlowStateError, gmailStrategy, type GmailAccount } from './strategy.ts';

type Deps = Pick<AppDeps, 'config' | 'db' | 'sealer' | 'logger' | 'google'>;

const callbackQuery = z.object({
  state: z.string().max(200).optional(),
  code: z.string().max(4096).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(4000).optional(),
});

/** One callback: who is signing in, the flow they started, and what Google put in the query. */
export interface Attempt {
  user: PublicUser;
  state: string;
  flow: PendingFlow;
  query: z.infer<typeof callbackQuery>;
}

export function gmailCallback(deps: Deps) {
  return async (req: Request, res: Response): Promise<void> => {
    res.set('Cache-Control', 'no-store');
    const attempt = takePendingFlow(req);
    const target = await loadFlowTarget(deps, attempt);
    const account = await exchangeCode(deps, req, res, attempt, target);
    const googleEmail = checkAccount(attempt, target, account);
    const stored = await storeGrant(deps, req, attempt, target, account, googleEmail);
    await connected(deps, req, res, attempt, googleEmail, account, stored);
  };
}

/** 1. The flow the state names, taken out of this session (one use); refused without a session or for another user. */
export function takePendingFlow(req: Request, now = Date.now()): Attempt {
  const user = req.user as PublicUser | undefined;
  if (!user) throw new SignInFailure(400, FLOW_PROBLEMS['signed-out']);
  const q = callbackQuery.safeParse(req.query);
  const query = q.success ? q.data : {};
  const taken = takeFlow(req, query.state, user.id, now);
  if (!taken.ok) throw new SignInFailure(400, FLOW_PROBLEMS[taken.reason]);
  return { user, state: taken.state, flow: taken.flow, query };
}

/** 2. Google answered with a code, and the mailbox (or Connect Gmail's profile) and its OAuth client are still valid. */
async function loadFlowTarget(deps: Deps, a: Attempt): Promise<SignInTarget> {
  const { flow, query } = a;
  if (query.error || !query.code) {
    throw new SignInFailure(400, googleErrorPage(query.error ?? 'no_code', query.error_description, flow), {
      flow,
      reason: query.error ?? 'no-code',
    });
  }
  const target = await loadTarget(deps, a.user, flow);
  if (typeof target === 'string') {
    throw new SignInFailure(
      400,
      { title: 'Cannot finish signing in', message: `${target} Nothing was saved.`, mailboxId: flow.mailboxId },
      { flow, reason: 'target-changed' },
    );
  }
  return target;
}

/** 3. The code (with the flow's PKCE verifier) exchanged for tokens, and the account's userinfo. */
async function exchangeCode(
  deps: Deps,
  req: Request,
  res: Response,
  a: Attempt,
  target: SignInTarget,
): Promise<GmailAccount> {
  try {
    return await finishGmailFlow(gmailStrategy(deps.config, deps.google, target.creds, takenFlowStore(a)), req, res);
  } catch (e) {
    if (e instanceof FlowStateError) throw new SignInFailure(400, FLOW_PROBLEMS.unknown);
    if (!(e instanceof GoogleOAuthError)) throw e;
    deps.logger.warn({ error: e.error, status: e.status, mailboxId: a.flow.mailboxId }, 'Gmail code exchange failed');
    throw new SignInFailure(
      e.transient ? 502 : 400,
      {
        // A temporary failure is no refusal: Google had trouble, the user did nothing wrong.
        title: e.transient ? 'Google had a temporary problem' : 'Google did not accept the sign-in',
        mailboxId: a.flow.mailboxId,
        again: startAgain(a.flow),
        detail: e.description,
        message: e.transient
          ? `Google could not be reached or had a temporary problem (${e.error}). Nothing was saved. Try Sign in to Gmail again in a minute.`
          : `Google refused to exchange the sign-in for tokens (${e.error}). Nothing was saved. Start again with Sign in to Gmail; if it keeps happening, check the profile's client ID and secret.`,
      },
      { flow: a.flow, reason: 'token-exchange', details: { error: e.error, status: e.status ?? null } },
    );
  }
}

/** What Google issued in this attempt, to revoke when it is refused (Google then revokes the whole grant). */
const issued = (target: SignInTarget, account: GmailAccount, googleEmail: string) => ({
  token: account.token.refresh_token ?? account.token.access_token,
  googleEmail,
  clientId: target.creds.clientId,
});

/** 4. A verified address, the mailbox's own (Sign in to Gmail), with the Gmail scope granted. Returns the address. */
export function checkAccount(a: Attempt, target: SignInTarget, account: GmailAccount): string {
  const googleEmail = account.userinfo.email?.toLowerCase() ?? '';
  const problem = checkGoogleAccount(
    { scope: account.token.scope, userinfo: account.userinfo },
    target.mailbox?.emailAddress,
  );
  if (problem) {
    throw new SignInFailure(
      400,
      {
        title: 'Gmail not connected',
        message: `${problem.message} Nothing was saved.`,
        mailboxId: a.flow.mailboxId,
        again: startAgain(a.flow),
      },
      {
        flow: a.flow,
        reason: problem.code,
        details: { googleEmail: problem.googleEmail ?? null, scopes: account.token.scope },
      },
      issued(target, account, googleEmail),
    );
  }
  return googleEmail;
}

/** 5. The grant stored (sealed) under the mailbox's lock, or Connect Gmail's new mailbox with it. */
async function storeGrant(
  deps: Deps,
  req: Request,
  a: Attempt,
  target: SignInTarget,
  account: GmailAccount,
  googleEmail: string,
): Promise<Stored> {
  try {
    return await storeSignIn(deps, a.flow, a.user, googleEmail, account, actorOf(req));
  } catch (e) {
    if (!(e instanceof SignInRefused)) throw e;
    throw new SignInFailure(
      400,
      {
        title: 'Gmail not connected',
        message: `${e.message} Nothing was saved.`,
        mailboxId: a.flow.mailboxId,
        // Starting again helps when the mailbox changed meanwhile; a full profile or a duplicate address it does not.
        again: e.reason === 'mailbox-changed' ? startAgain(a.flow) : undefined,
        banner: e.reason === 'profile-full' ? e.message : undefined,
      },
      { flow: a.flow, reason: e.reason, details: { googleEmail } },
      issued(target, account, googleEmail),
    );
  }
}

/** 6. Audited and logged; back to the mailbox with what happened. */
async function connected(
  deps: Deps,
  req: Request,
  res: Response,
  a: Attempt,
  googleEmail: string,
  account: GmailAccount,
  stored: Stored,
): Promise<void> {
  const { mailboxId, needsReconsent } = stored;
  await audit(deps.db.prisma, {
    action: 'gmail.connect',
    targetType: 'Mailbox',
    targetId: mailboxId,
    ...actorOf(req),
    details: {
      googleEmail,
      scopes: account.token.scope,
      via: a.flow.kind === 'mailbox' ? 'sign-in' : 'connect-gmail',
      needsReconsent,
    },
  });
  deps.logger.info({ mailboxId, googleEmail, needsReconsent }, 'Gmail connected');
  flash(
    req,
    'success',
    `Signed in to Gmail as ${googleEmail}.${a.flow.kind === 'connect' ? ' Your mailbox was created; an administrator must approve its email address.' : ''}`,
  );
  if (needsReconsent) {
    flash(
      req,
      'warning',
      'Google did not return a refresh token, so Mailroom cannot renew access on its own. Sign in again with consent: remove Mailroom at myaccount.google.com/permissions, then use Sign in to Gmail again.',
    );
  }
  res.redirect(303, `/mailboxes/${mailboxId}`);
}
