// Manual refresh token (admins; for clients that cannot use the redirect): the pasted token is proven by a
// refresh against Google, its scope and (when it allows) its account are checked, and only then stored.
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { audit, type AuditEntry } from '../security/audit.ts';
import { emailSchema } from '../auth/users.ts';
import type { FieldErrors } from '../web/forms.ts';
import type { MailboxDetail } from '../mailboxes/access.ts';
import { TX_OPTIONS } from '../mailboxes/capacity.ts';
import { GoogleOAuthError, hasMailScope, MAIL_SCOPE, type ClientCredentials, type Userinfo } from './google-client.ts';
import { writeGrant } from './grants.ts';
import { lockMailbox } from '../mailboxes/locks.ts';

export const manualTokenSchema = z.object({
  refreshToken: z
    .string({ error: 'Paste the refresh token' })
    .trim()
    .min(1, 'Paste the refresh token')
    .max(4096, 'This is too long for a refresh token'),
  googleEmail: z.string({ error: 'Enter the Gmail address' }).max(320).pipe(emailSchema),
});
export type ManualToken = z.infer<typeof manualTokenSchema>;

const EMAIL_SCOPES = ['email', 'https://www.googleapis.com/auth/userinfo.email'];

function refreshError(e: GoogleOAuthError): FieldErrors {
  if (e.error === 'invalid_grant')
    return {
      refreshToken:
        'Google rejected this refresh token (invalid_grant): it was revoked or has expired, or it belongs to another OAuth client.',
    };
  if (e.error === 'unauthorized_client')
    return {
      refreshToken:
        'This refresh token was issued to a different OAuth client than this profile’s client ID (unauthorized_client).',
    };
  if (e.error === 'invalid_client')
    return {
      _form:
        'Google rejected the profile’s client ID or client secret (invalid_client). Fix them on the email server profile.',
    };
  if (e.transient)
    return {
      _form: `Google could not be reached or had a temporary problem (${e.error}). Nothing was saved; try again.`,
    };
  return { refreshToken: `Google refused this refresh token (${e.error}).` };
}

export type ManualResult = { ok: true; googleEmail: string; scope: string } | { ok: false; errors: FieldErrors };

/** Checks the pasted token with Google, stores it under the mailbox's lock, audits and logs (never the token). */
export async function connectWithRefreshToken(
  deps: Pick<AppDeps, 'db' | 'sealer' | 'logger' | 'google'>,
  mailbox: MailboxDetail,
  creds: ClientCredentials,
  input: ManualToken,
  who: Pick<AuditEntry, 'actor' | 'ip'>,
): Promise<ManualResult> {
  const { google } = deps;
  let token: Awaited<ReturnType<typeof google.refreshAccessToken>>;
  try {
    token = await google.refreshAccessToken(creds, input.refreshToken);
  } catch (e) {
    if (e instanceof GoogleOAuthError) return { ok: false, errors: refreshError(e) };
    throw e;
  }
  if (!hasMailScope(token.scope)) {
    return {
      ok: false,
      errors: {
        refreshToken: `This refresh token does not grant access to Gmail (${MAIL_SCOPE}); Google reports: ${token.scope || 'no scopes'}.`,
      },
    };
  }
  if (token.scope.split(/\s+/).some((s) => EMAIL_SCOPES.includes(s))) {
    let info: Userinfo;
    try {
      info = await google.fetchUserinfo(token.access_token);
    } catch (e) {
      if (e instanceof GoogleOAuthError)
        return {
          ok: false,
          errors: {
            _form: `Google did not say which account the token belongs to (${e.error}). Nothing was saved; try again.`,
          },
        };
      throw e;
    }
    const email = info.email?.toLowerCase();
    if (email && info.email_verified === true && email !== input.googleEmail) {
      return {
        ok: false,
        errors: { googleEmail: `This refresh token belongs to ${email}, not ${input.googleEmail}.` },
      };
    }
  }
  await deps.db.prisma.$transaction(async (tx) => {
    if (!(await lockMailbox(tx, mailbox.id))) throw new Error('The mailbox was deleted meanwhile');
    await writeGrant(tx, deps.sealer, {
      mailboxId: mailbox.id,
      googleEmail: input.googleEmail,
      accessToken: token.access_token,
      expiresIn: token.expires_in,
      scope: token.scope,
      refreshToken: token.refresh_token ?? input.refreshToken, // Google may rotate it
    });
  }, TX_OPTIONS);
  await audit(deps.db.prisma, {
    action: 'gmail.connect',
    targetType: 'Mailbox',
    targetId: mailbox.id,
    ...who,
    details: { googleEmail: input.googleEmail, scopes: token.scope, via: 'refresh-token' },
  });
  deps.logger.info(
    { mailboxId: mailbox.id, googleEmail: input.googleEmail },
    'Gmail connected with a pasted refresh token',
  );
  return { ok: true, googleEmail: input.googleEmail, scope: token.scope };
}
