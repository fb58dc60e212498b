// The first two steps of a run: get working credentials (refresh the Gmail access token when under 60 s
// remain, one refresh per mailbox at a time, keeping a rotated refresh token) and check account and scope.
import { SEALED } from '../security/secrets.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Sealer } from '../security/secrets.ts';
import type { Logger } from '../logger.ts';
import { profileClient } from '../gmail/credentials.ts';
import { GoogleOAuthError, hasMailScope, type GoogleClient } from '../gmail/google-client.ts';
import { classifyTokenError, failure, safeRemoteText } from '../mail/errors.ts';
import { KeyedMutex } from '../mail/limiter.ts';
import { codedFailStep } from '../mail/steps.ts';
import { when } from '../mailboxes/labels.ts';
import type { Credentials, MailboxForTest, ProfileForTest } from './run.ts';
import type { Step } from '../mail/types.ts';

const REFRESH_MARGIN_MS = 60_000;

const TOKEN = 'Access token';
const ACCOUNT = 'Account and scope';

export interface CredentialDeps { prisma: PrismaClient; sealer: Sealer; google: GoogleClient; logger: Logger; now?: () => number }

const refreshLock = new KeyedMutex();

type FullMailbox = MailboxForTest & { profile: ProfileForTest };

export function credentialsFor(deps: CredentialDeps) {
  const now = deps.now ?? Date.now;
  return async (mb: FullMailbox): Promise<Credentials> => {
    if (mb.profile.authenticateUsing === 'CREDENTIALS_PER_MAILBOX') return passwordCredentials(deps, mb);
    return refreshLock.run(mb.id, () => oauthCredentials(deps, mb, now));
  };
}

/** User name and sealed password come with the job's read of the mailbox: no query here. */
function passwordCredentials(deps: CredentialDeps, mb: FullMailbox): Credentials {
  const skipped: Step = { id: 'token', label: TOKEN, status: 'skip', message: 'Not used: the profile uses credentials specified by the user.' };
  if (!mb.credentialUsername || !mb.credentialPassword) {
    return { ok: false, steps: [skipped, codedFailStep('account', 'Credentials', 'CREDENTIALS_MISSING', 'The mailbox has no user name or password.', 'Edit the mailbox and enter its User Name and Password, then select Test & Enable Mailbox.')] };
  }
  let password: string;
  try { password = deps.sealer.open(mb.credentialPassword, SEALED.mailboxPassword); } catch {
    return { ok: false, steps: [skipped, codedFailStep('account', 'Credentials', 'SECRET_UNREADABLE', 'The stored password cannot be read with the current key.', 'Edit the mailbox and enter its Password again.')] };
  }
  return { ok: true, auth: { kind: 'password', user: mb.credentialUsername, password }, steps: [skipped, { id: 'account', label: 'Credentials', status: 'ok', message: `User name ${mb.credentialUsername}` }] };
}

async function oauthCredentials(deps: CredentialDeps, mb: FullMailbox, now: () => number): Promise<Credentials> {
  const { prisma, sealer } = deps;
  const grant = await prisma.gmailGrant.findUnique({ where: { mailboxId: mb.id } });
  if (!grant) return { ok: false, steps: [codedFailStep('token', TOKEN, 'NOT_SIGNED_IN', 'Nobody has signed in to Gmail for this mailbox.', 'Open the mailbox and select Sign in to Gmail, then select Test & Enable Mailbox.')] };
  const client = profileClient(sealer, mb.profile);
  if (!client.ok) return { ok: false, steps: [codedFailStep('token', TOKEN, 'OAUTH_CLIENT', client.problem, 'Fix the email server profile, then select Test & Enable Mailbox again.')] };

  let accessToken: string;
  let scopes = grant.grantedScopes;
  let tokenStep: Step;
  try {
    if (grant.accessTokenExpiresAt.getTime() - now() > REFRESH_MARGIN_MS) {
      accessToken = sealer.open(grant.accessToken, SEALED.grantAccessToken);
      tokenStep = { id: 'token', label: TOKEN, status: 'ok', message: `Access token valid until ${when(grant.accessTokenExpiresAt)}.` };
    } else {
      if (!grant.refreshToken) {
        return { ok: false, steps: [codedFailStep('token', TOKEN, 'TOKEN_REVOKED', 'There is no refresh token for this mailbox.', failure('TOKEN_REVOKED').hint)] };
      }
      const refreshToken = sealer.open(grant.refreshToken, SEALED.grantRefreshToken);
      const t = await deps.google.refreshAccessToken(client.creds, refreshToken);
      accessToken = t.access_token;
      if (t.scope) scopes = t.scope;
      const expiresAt = new Date(now() + t.expires_in * 1000);
      await prisma.gmailGrant.update({
        where: { mailboxId: mb.id },
        data: {
          accessToken: sealer.seal(t.access_token, SEALED.grantAccessToken), accessTokenExpiresAt: expiresAt, refreshedAt: new Date(now()), grantedScopes: scopes,
          ...(t.refresh_token ? { refreshToken: sealer.seal(t.refresh_token, SEALED.grantRefreshToken) } : {}),
        },
      });
      deps.logger.info({ mailboxId: mb.id, rotated: Boolean(t.refresh_token) }, 'Gmail access token refreshed');
      tokenStep = { id: 'token', label: TOKEN, status: 'ok', message: `Access token refreshed; valid until ${when(expiresAt)}.` };
    }
  } catch (e) {
    if (e instanceof GoogleOAuthError) {
      if (e.transient) {
        return { ok: false, steps: [codedFailStep('token', TOKEN, 'TOKEN_ENDPOINT', `Google's token endpoint failed: ${safeRemoteText(e.message)}`, 'Google is having trouble; Test & Enable Mailbox will try again automatically.', true)] };
      }
      const code = classifyTokenError(e.error);
      return { ok: false, steps: [codedFailStep('token', TOKEN, code, `Google refused to refresh the access token: ${safeRemoteText(e.message)}`, failure(code).hint)] };
    }
    return { ok: false, steps: [codedFailStep('token', TOKEN, 'SECRET_UNREADABLE', 'The stored token cannot be read with the current key.', 'Select Sign in to Gmail again.')] };
  }

  if (!hasMailScope(scopes)) {
    return { ok: false, steps: [tokenStep, codedFailStep('account', ACCOUNT, 'MISSING_SCOPE', `The grant does not include https://mail.google.com/ (granted: ${safeRemoteText(scopes) || 'none'}).`, failure('MISSING_SCOPE').hint)] };
  }
  if (grant.googleEmail.toLowerCase() !== mb.emailAddress.toLowerCase()) {
    return { ok: false, steps: [tokenStep, codedFailStep('account', ACCOUNT, 'ACCOUNT_MISMATCH', `Signed in as ${grant.googleEmail}, but the mailbox address is ${mb.emailAddress}.`, `Select Sign in to Gmail again and choose the Google account ${mb.emailAddress}.`)] };
  }
  return { ok: true, auth: { kind: 'xoauth2', user: grant.googleEmail, accessToken }, steps: [tokenStep, { id: 'account', label: ACCOUNT, status: 'ok', message: `${grant.googleEmail} with full Gmail access.` }] };
}
