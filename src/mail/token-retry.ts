// The rule for a mail server that refuses a cached OAuth access token (issue 13 item 1): Google may invalidate a token
// before its stored expiry (password change, revoked session, clock skew), so refresh it once through the credentials
// provider and log in again before deciding. A refresh that Google refuses (invalid_grant) is what tells a revoked
// grant (TOKEN_REVOKED) from a stale token. Test & Enable (checks/run.ts) and the synchronization both call this.
import type { CredentialOptions, CredentialResult } from './credentials.ts';
import type { MailAuth } from './types.ts';

/** A provider's answer (CredentialResult) or a caller's wrapping of it (Test & Enable's steps). */
export type RenewableCredentials = { ok: true; auth: MailAuth; cached?: boolean } | { ok: false };

export type TokenRetryResult<C extends RenewableCredentials, T> =
  /** The provider refused (first, or at the refresh after the server refused the token): report its failure. */
  | { ok: false; credentials: Extract<C, { ok: false }>; first?: T; refreshedAfterRefusal: boolean }
  /** The login's result, with the credentials it used; refreshedAfterRefusal: this is the second login. */
  | { ok: true; credentials: Extract<C, { ok: true }>; result: T; refreshedAfterRefusal: boolean };

/** The failure codes that mean "the server refused these credentials" (the mapped code of a login step). */
export const isCredentialRefusal = (code: string | undefined): boolean => code === 'AUTH_FAILED';

/**
 * Gets credentials, runs `login` with them, and when `refused(result)` says the server refused a cached OAuth token,
 * asks the provider once more with forceRefresh (naming the refused token) and runs `login` again. Passwords and
 * tokens refreshed just now are never retried: a second refusal is the answer.
 */
export async function loginWithTokenRetry<C extends RenewableCredentials = CredentialResult, T = unknown>(
  credentials: (opts?: CredentialOptions) => Promise<C>,
  login: (auth: MailAuth) => Promise<T>,
  refused: (result: T) => boolean,
): Promise<TokenRetryResult<C, T>> {
  type Ok = Extract<C, { ok: true }>;
  type No = Extract<C, { ok: false }>;
  const first = await credentials();
  if (!first.ok) return { ok: false, credentials: first as No, refreshedAfterRefusal: false };
  const ok = first as Ok;
  const result = await login(ok.auth);
  if (!ok.cached || ok.auth.kind !== 'xoauth2' || !refused(result))
    return { ok: true, credentials: ok, result, refreshedAfterRefusal: false };
  const again = await credentials({ forceRefresh: true, refusedAccessToken: ok.auth.accessToken });
  if (!again.ok) return { ok: false, credentials: again as No, first: result, refreshedAfterRefusal: true };
  const renewed = again as Ok;
  return { ok: true, credentials: renewed, result: await login(renewed.auth), refreshedAfterRefusal: true };
}
