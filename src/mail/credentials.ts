// The credentials seam: one provider per Authenticate Using value gives the mail servers working credentials for a
// mailbox (Gmail OAuth: a fresh access token; credentials per mailbox: its stored password). Test & Enable asks it
// today; synchronization will ask the same provider object, so a mailbox's token is refreshed once at a time for both.
import type { Prisma } from '../generated/prisma/client.ts';
import type { AuthenticateUsing } from '../generated/prisma/enums.ts';
import type { MailAuth } from './types.ts';

/** What a provider reads of a mailbox and of its profile. Callers select these along with what they need. */
export const mailboxCredentialFields = {
  id: true,
  emailAddress: true,
  credentialUsername: true,
  credentialPassword: true,
} as const satisfies Prisma.MailboxSelect;
export const profileCredentialFields = {
  id: true,
  name: true,
  authenticateUsing: true,
  oauthClientId: true,
  oauthClientSecret: true,
} as const satisfies Prisma.EmailServerProfileSelect;

export type CredentialProfile = Prisma.EmailServerProfileGetPayload<{ select: typeof profileCredentialFields }>;
export type CredentialMailbox = Prisma.MailboxGetPayload<{ select: typeof mailboxCredentialFields }> & {
  profile: CredentialProfile;
};

/** The two things a provider checks before any mail server is contacted, in this order. */
export type CredentialCheck = 'token' | 'account';

export interface CheckPassed {
  check: CredentialCheck;
  status: 'ok' | 'skip';
  message: string;
}

/** A refusal the provider explains: its code, what happened, what to do, and whether trying later may clear it. */
export interface CredentialFailure {
  check: CredentialCheck;
  code: string;
  message: string;
  hint: string;
  transient: boolean;
}

export type CredentialResult =
  | {
      ok: true;
      auth: MailAuth;
      passed: CheckPassed[];
      /**
       * The credential came from a cache that a forced refresh may replace (an OAuth access token stored earlier, not
       * one refreshed just now): when a mail server refuses it, refresh once and try again (token-retry.ts).
       */
      cached?: boolean;
    }
  | { ok: false; failure: CredentialFailure; passed: CheckPassed[] };

export type ReleaseOutcome = 'revoked' | 'failed' | 'kept-shared' | 'none';
/** What releasing a mailbox's credentials did, and a sentence for the admin (empty when there is nothing to say). */
export interface Released {
  outcome: ReleaseOutcome;
  note: string;
}

export interface CredentialOptions {
  /**
   * A mail server refused the cached credential: renew it now even if it has not expired (OAuth: refresh the access
   * token). Under the provider's one-refresh-per-mailbox lock, like every refresh.
   */
  forceRefresh?: boolean;
  /**
   * The access token the server refused. When the stored token is already another one (a concurrent caller refreshed
   * it meanwhile), that one is returned instead of refreshing a second time.
   */
  refusedAccessToken?: string;
  /** Refresh an access token that expires sooner than this (synchronization refreshes ~5 min ahead while connected). */
  minValidityMs?: number;
}

export interface CredentialProvider {
  /** Test & Enable's step labels for the two checks. */
  readonly labels: Readonly<Record<CredentialCheck, string>>;
  /** Why no mailbox of this profile can get credentials now (an OAuth client missing or unreadable), or null. */
  profileProblem(profile: CredentialProfile): string | null;
  /** Working credentials for the mail servers; a refusal is a result, never a throw. */
  credentials(mailbox: CredentialMailbox, opts?: CredentialOptions): Promise<CredentialResult>;
  /**
   * Inside the caller's transaction (the mailbox row locked or being deleted): drops what the mailbox holds with
   * this provider. The returned function finishes outside the transaction (revocation); null when there was nothing.
   */
  release(tx: Prisma.TransactionClient, mailbox: ReleasedMailbox): Promise<(() => Promise<Released>) | null>;
}

/** The mailbox whose credentials go, with its profile (whose OAuth client may still share the grant elsewhere). */
export interface ReleasedMailbox {
  id: string;
  profile: Pick<CredentialProfile, 'oauthClientId'> | null;
}

/** One provider per Authenticate Using value: a missing one is a type error where the registry is built. */
export type CredentialProviders = Readonly<Record<AuthenticateUsing, CredentialProvider>>;

export function providerFor(
  providers: CredentialProviders,
  profile: { authenticateUsing: AuthenticateUsing },
): CredentialProvider {
  return providers[profile.authenticateUsing];
}

export const NOTHING_RELEASED: Released = { outcome: 'none', note: '' };

/**
 * Releases what the mailbox holds with every provider (it may hold a grant from before its profile changed), inside
 * the caller's transaction. The returned function runs the follow-ups after the commit; null when nothing was held.
 */
export async function releaseAll(
  providers: CredentialProviders,
  tx: Prisma.TransactionClient,
  mailbox: ReleasedMailbox,
): Promise<(() => Promise<Released>) | null> {
  const after: Array<() => Promise<Released>> = [];
  for (const provider of Object.values(providers)) {
    const next = await provider.release(tx, mailbox);
    if (next) after.push(next);
  }
  if (!after.length) return null;
  return async () => {
    const done: Released[] = [];
    for (const next of after) done.push(await next());
    return done.find((r) => r.outcome === 'failed') ?? done.find((r) => r.outcome !== 'none') ?? NOTHING_RELEASED;
  };
}
