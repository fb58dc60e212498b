// The Gmail OAuth credentials provider: the mailbox's stored grant, its access token refreshed through Google when
// under 60 s remain (one refresh per mailbox at a time, a rotated refresh token kept), checked for the Gmail scope
// and the mailbox's own account. Built once per process and shared by everything that talks to Gmail's servers.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { RawSql } from '../db/client.ts';
import { SEALED, type Sealer } from '../security/secrets.ts';
import type { Logger } from '../logger.ts';
import type {
  CredentialFailure,
  CredentialOptions,
  CredentialMailbox,
  CredentialProvider,
  CredentialResult,
  CheckPassed,
} from '../mail/credentials.ts';
import { classifyTokenError, failure, safeRemoteText } from '../mail/errors.ts';
import { KeyedMutex } from '../mail/limiter.ts';
import { when } from '../mailboxes/labels.ts';
import { profileClient } from './credentials.ts';
import { GoogleOAuthError, hasMailScope, type GoogleClient } from './google-client.ts';
import { revokeStoredGrant, revokeNote, type RevokeDeps } from './grants.ts';

const REFRESH_MARGIN_MS = 60_000;
/** How long a refresh claim holds: longer than the Google client's 15 s timeout, so only a dead holder's runs out. */
const REFRESH_CLAIM_MS = 30_000;
const REFRESH_CLAIM_GRACE_MS = 5_000;
const REFRESH_CLAIM_POLL_MS = 200;

export interface GmailProviderDeps {
  prisma: PrismaClient;
  /**
   * The database's driver handle (the same pool as Prisma's, or PGlite's thread): the read with the refresh claim, the
   * claim's release and the new token's write are hand-written statements, cheaper through the driver than through
   * Prisma's raw queries (decision 038's bench/diag/raw-vs-prisma.ts; decision 044).
   */
  sql: RawSql;
  sealer: Sealer;
  google: GoogleClient;
  logger: Logger;
  now?: () => number;
}

const tokenFailure = (code: string, message: string, hint: string, transient = false): CredentialFailure => ({
  check: 'token',
  code,
  message,
  hint,
  transient,
});

export function gmailProvider(deps: GmailProviderDeps): CredentialProvider {
  const now = deps.now ?? Date.now;
  const refreshLock = new KeyedMutex();
  const revokeDeps: RevokeDeps = {
    db: { prisma: deps.prisma },
    sealer: deps.sealer,
    logger: deps.logger,
    google: deps.google,
  };
  return {
    labels: { token: 'Access token', account: 'Account and scope' },
    profileProblem: (profile) => {
      const client = profileClient(deps.sealer, profile);
      return client.ok ? null : client.problem;
    },
    credentials: (mb, opts = {}) => refreshLock.run(mb.id, () => oauthCredentials(deps, mb, now, opts)),
    async release(tx, mailbox) {
      const grant = await tx.gmailGrant.findUnique({ where: { mailboxId: mailbox.id } });
      if (!grant) return null;
      await tx.gmailGrant.delete({ where: { id: grant.id } });
      return async () => {
        const outcome = await revokeStoredGrant(revokeDeps, grant, mailbox.profile?.oauthClientId);
        return { outcome, note: revokeNote(outcome) };
      };
    },
  };
}

const fail = (f: CredentialFailure, passed: CheckPassed[] = []): CredentialResult => ({
  ok: false,
  failure: f,
  passed,
});

/** The stored access token, or null when it cannot be opened (then only a refresh can help). */
function storedAccessToken(sealer: Sealer, sealed: string): string | null {
  try {
    return sealer.open(sealed, SEALED.grantAccessToken);
  } catch {
    return null;
  }
}

/**
 * A usable access token for a grant with the Gmail scope and the mailbox's own account: the stored one, or a refreshed
 * one when under 60 s remain or when a mail server refused the stored one (opts.forceRefresh, issue 13 item 1).
 */
async function oauthCredentials(
  deps: GmailProviderDeps,
  mb: CredentialMailbox,
  now: () => number,
  opts: CredentialOptions,
): Promise<CredentialResult> {
  const { sealer } = deps;
  // One refresh per mailbox at a time across every process: the in-process mutex (gmailProvider) serializes callers
  // here, the grant's refresh claim serializes processes. A caller that finds the claim taken waits for it to go, then
  // reads the grant again and normally finds the token the other process just stored.
  const claimId = randomUUID();
  const giveUpAt = Date.now() + REFRESH_CLAIM_MS + REFRESH_CLAIM_GRACE_MS;
  let claimed = false;
  let grant: GrantRead | undefined;
  let stored: string | null;
  let mustRefresh: boolean;
  for (;;) {
    // The read takes the refresh claim in the same statement when the token will need refreshing by what the database
    // alone can tell (expiring within the margin, or a forced refresh that names no refused token): one statement
    // where there were two (decision 044). What only this process can tell (a stored token it cannot open, a refused
    // token someone replaced meanwhile) is decided below, with the claim taken separately or given back.
    const at = now();
    const validUntil = new Date(at + Math.max(REFRESH_MARGIN_MS, opts.minValidityMs ?? 0));
    const force = opts.forceRefresh === true && opts.refusedAccessToken === undefined;
    const read = await readAndClaim(deps.sql, mb.id, claimId, validUntil, force);
    grant = read?.grant;
    if (!grant)
      return fail(
        tokenFailure(
          'NOT_SIGNED_IN',
          'Nobody has signed in to Gmail for this mailbox.',
          'Open the mailbox and select Sign in to Gmail, then select Test & Enable Mailbox again.',
        ),
      );
    stored = storedAccessToken(sealer, grant.accessToken);
    // A caller that names the refused token gets the stored one when someone else already replaced it meanwhile.
    const replacedMeanwhile = opts.refusedAccessToken !== undefined && stored !== opts.refusedAccessToken;
    mustRefresh =
      stored === null ||
      grant.accessTokenExpiresAt.getTime() <= validUntil.getTime() ||
      (opts.forceRefresh === true && !replacedMeanwhile);
    // The statement tried the claim exactly when its condition held (refresh token present, and forced or expiring).
    const tried =
      grant.refreshToken !== null && (force || grant.accessTokenExpiresAt.getTime() <= validUntil.getTime());
    const after = read?.claimedToken ?? undefined;
    if (!mustRefresh || !grant.refreshToken) {
      if (after !== undefined) await releaseRefreshClaim(deps.sql, mb.id, claimId);
      break;
    }
    const taken = tried ? after : await claimRefresh(deps.sql, mb.id, claimId);
    if (taken !== undefined) {
      // Taken after (or with) the read: someone may have stored a new token in between. Then use theirs.
      if (taken === grant.accessToken) {
        claimed = true;
        break;
      }
      await releaseRefreshClaim(deps.sql, mb.id, claimId);
      continue;
    }
    if (Date.now() >= giveUpAt)
      return fail(
        tokenFailure(
          'TOKEN_ENDPOINT',
          "Another process has been refreshing this mailbox's access token for too long.",
          'Google is slow to answer; the mailbox will try again automatically.',
          true,
        ),
      );
    await sleep(REFRESH_CLAIM_POLL_MS);
  }
  // The claim goes with the new token's write when there is one (one statement instead of two, decision 034); on every
  // other way out (no refresh needed after all, Google failed, the write failed) the finally releases it.
  const claim = { id: claimId, held: claimed };
  try {
    return await useOrRefresh(deps, mb, now, opts, { grant, stored, mustRefresh }, claim);
  } finally {
    if (claim.held) await releaseRefreshClaim(deps.sql, mb.id, claimId).catch(() => undefined);
  }
}

/** What a credentials call reads of the grant (timestamps as instants, whatever the session's TimeZone). */
interface GrantRead {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string | null;
  grantedScopes: string;
  googleEmail: string;
}

const CLAIM_SET = `"refreshClaimedUntil" = now() + make_interval(secs => ${REFRESH_CLAIM_MS / 1000}::double precision)`;
const CLAIM_FREE = `("refreshClaimedUntil" IS NULL OR "refreshClaimedUntil" < now())`;

/**
 * The grant, and in the same statement its refresh claim when the token needs refreshing by the stored expiry (before
 * validUntil) or force, a refresh token is there and nobody holds the claim (or the holder's ran out: a process died
 * mid-refresh). claimedToken is the stored access token as of the claim (null: not taken), which can differ from the
 * read's when another process stored a new token between the read's snapshot and the claim's row lock.
 */
export async function readAndClaim(
  sql: RawSql,
  mailboxId: string,
  claimId: string,
  validUntil: Date,
  force: boolean,
): Promise<{ grant: GrantRead; claimedToken: string | null } | undefined> {
  const rows = await sql.query<
    Omit<GrantRead, 'accessTokenExpiresAt'> & { expiresMs: number; claimedToken: string | null }
  >(
    `WITH g AS (
       SELECT "accessToken", "refreshToken", "grantedScopes", "googleEmail",
         (extract(epoch FROM "accessTokenExpiresAt" AT TIME ZONE 'UTC') * 1000)::float8 AS "expiresMs"
       FROM "GmailGrant" WHERE "mailboxId" = $1
     ), c AS (
       UPDATE "GmailGrant" SET ${CLAIM_SET}, "refreshClaimedBy" = $2
       WHERE "mailboxId" = $1 AND "refreshToken" IS NOT NULL AND ($4 OR "accessTokenExpiresAt" <= $3::timestamp(3))
         AND ${CLAIM_FREE}
       RETURNING "accessToken"
     )
     SELECT g.*, (SELECT "accessToken" FROM c) AS "claimedToken" FROM g`,
    [mailboxId, claimId, validUntil.toISOString(), force],
  );
  const r = rows[0];
  if (!r) return undefined;
  const { expiresMs, claimedToken, ...rest } = r;
  return { grant: { ...rest, accessTokenExpiresAt: new Date(Number(expiresMs)) }, claimedToken };
}

/**
 * Takes the grant's refresh claim on its own, for the cases the read's claim cannot see (a stored token this process
 * cannot open, a refused token replaced meanwhile); returns the stored access token as of the claim (undefined: not
 * taken).
 */
async function claimRefresh(sql: RawSql, mailboxId: string, claimId: string): Promise<string | undefined> {
  const rows = await sql.query<{ accessToken: string }>(
    `UPDATE "GmailGrant" SET ${CLAIM_SET}, "refreshClaimedBy" = $2
     WHERE "mailboxId" = $1 AND ${CLAIM_FREE}
     RETURNING "accessToken"`,
    [mailboxId, claimId],
  );
  return rows[0]?.accessToken;
}

async function releaseRefreshClaim(sql: RawSql, mailboxId: string, claimId: string): Promise<void> {
  await sql.query(
    `UPDATE "GmailGrant" SET "refreshClaimedUntil" = NULL, "refreshClaimedBy" = NULL
     WHERE "mailboxId" = $1 AND "refreshClaimedBy" = $2`,
    [mailboxId, claimId],
  );
}

/**
 * Stores a refreshed token (sealed) and, in the same statement, releases the refresh claim if this caller still holds
 * it (a claim that ran out and was taken over by another process stays theirs). Timestamps as Prisma writes them: the
 * timestamp(3) columns get the UTC time. Throws when the grant is gone (deleted meanwhile), as Prisma's update did.
 */
export async function storeRefreshed(
  sql: RawSql,
  mailboxId: string,
  claim: { id: string; held: boolean },
  t: { accessToken: string; expiresAt: Date; at: Date; scopes: string; refreshToken: string | null },
): Promise<void> {
  const rows = await sql.query<{ one: number }>(
    `UPDATE "GmailGrant" SET "accessToken" = $2, "accessTokenExpiresAt" = $3::timestamp(3),
       "refreshedAt" = $4::timestamp(3), "grantedScopes" = $5,
       "refreshToken" = COALESCE($6::text, "refreshToken"),
       "refreshTokenIssuedAt" = CASE WHEN $6::text IS NULL THEN "refreshTokenIssuedAt" ELSE $4::timestamptz END,
       "refreshClaimedUntil" = CASE WHEN "refreshClaimedBy" = $7::text THEN NULL ELSE "refreshClaimedUntil" END,
       "refreshClaimedBy" = CASE WHEN "refreshClaimedBy" = $7::text THEN NULL ELSE "refreshClaimedBy" END
     WHERE "mailboxId" = $1
     RETURNING 1 AS one`,
    [
      mailboxId,
      t.accessToken,
      t.expiresAt.toISOString(),
      t.at.toISOString(),
      t.scopes,
      t.refreshToken,
      claim.held ? claim.id : null,
    ],
  );
  const updated = rows.length;
  if (updated !== 1) throw new Error('The Gmail grant was deleted during the refresh.');
  claim.held = false;
}

async function useOrRefresh(
  deps: GmailProviderDeps,
  mb: CredentialMailbox,
  now: () => number,
  opts: CredentialOptions,
  read: { grant: GrantRead; stored: string | null; mustRefresh: boolean },
  claim: { id: string; held: boolean },
): Promise<CredentialResult> {
  const { sealer } = deps;
  const { grant, stored, mustRefresh } = read;
  const client = profileClient(sealer, mb.profile);
  if (!client.ok)
    return fail(
      tokenFailure(
        'OAUTH_CLIENT',
        client.problem,
        'Fix the email server profile, then select Test & Enable Mailbox again.',
      ),
    );

  let accessToken: string;
  let scopes = grant.grantedScopes;
  let token: CheckPassed;
  let cached = false;
  try {
    if (!mustRefresh && stored !== null) {
      accessToken = stored;
      cached = !opts.forceRefresh;
      token = {
        check: 'token',
        status: 'ok',
        message: `Access token valid until ${when(grant.accessTokenExpiresAt)}.`,
      };
    } else {
      if (!grant.refreshToken)
        return fail(
          tokenFailure('TOKEN_REVOKED', 'There is no refresh token for this mailbox.', failure('TOKEN_REVOKED').hint),
        );
      const refreshToken = sealer.open(grant.refreshToken, SEALED.grantRefreshToken);
      const t = await deps.google.refreshAccessToken(client.creds, refreshToken);
      accessToken = t.access_token;
      if (t.scope) scopes = t.scope;
      const expiresAt = new Date(now() + t.expires_in * 1000);
      await storeRefreshed(deps.sql, mb.id, claim, {
        accessToken: sealer.seal(t.access_token, SEALED.grantAccessToken),
        expiresAt,
        at: new Date(now()),
        scopes,
        refreshToken: t.refresh_token ? sealer.seal(t.refresh_token, SEALED.grantRefreshToken) : null,
      });
      deps.logger.info({ mailboxId: mb.id, rotated: Boolean(t.refresh_token) }, 'Gmail access token refreshed');
      const why = opts.forceRefresh ? ' after Gmail refused the stored one' : '';
      token = {
        check: 'token',
        status: 'ok',
        message: `Access token refreshed${why}; valid until ${when(expiresAt)}.`,
      };
    }
  } catch (e) {
    if (e instanceof GoogleOAuthError) {
      if (e.transient) {
        return fail(
          tokenFailure(
            'TOKEN_ENDPOINT',
            `Google's token endpoint failed: ${safeRemoteText(e.message)}`,
            'Google is having trouble; Test & Enable Mailbox will try again automatically.',
            true,
          ),
        );
      }
      const code = classifyTokenError(e.error);
      if (code === 'TOKEN_REVOKED') await markSignInRequired(deps, mb.id, code, now);
      return fail(
        tokenFailure(
          code,
          `${opts.forceRefresh ? 'Gmail refused the stored access token, and Google' : 'Google'} refused to refresh the access token: ${safeRemoteText(e.message)}`,
          failure(code).hint,
        ),
      );
    }
    return fail(
      tokenFailure(
        'SECRET_UNREADABLE',
        'The stored token cannot be read with the current key.',
        'Select Sign in to Gmail again.',
      ),
    );
  }

  const account = (code: string, message: string, hint: string) =>
    fail({ check: 'account', code, message, hint, transient: false }, [token]);
  if (!hasMailScope(scopes)) {
    return account(
      'MISSING_SCOPE',
      `The grant does not include https://mail.google.com/ (granted: ${safeRemoteText(scopes) || 'none'}).`,
      failure('MISSING_SCOPE').hint,
    );
  }
  if (grant.googleEmail.toLowerCase() !== mb.emailAddress.toLowerCase()) {
    return account(
      'ACCOUNT_MISMATCH',
      `Signed in as ${grant.googleEmail}, but the mailbox address is ${mb.emailAddress}.`,
      `Select Sign in to Gmail again and choose the Google account ${mb.emailAddress}.`,
    );
  }
  return {
    ok: true,
    cached,
    auth: { kind: 'xoauth2', user: grant.googleEmail, accessToken },
    passed: [token, { check: 'account', status: 'ok', message: `${grant.googleEmail} with full Gmail access.` }],
  };
}

/**
 * Google refused the grant (invalid_grant): the grant needs Sign in to Gmail again (the Gmail panel and the list say
 * so) and the mailbox is no longer enabled: nothing can reach Gmail for it until someone signs in (issue 13 item 3).
 * The first refusal's time is kept.
 */
async function markSignInRequired(deps: GmailProviderDeps, mailboxId: string, code: string, now: () => number) {
  await deps.prisma.$transaction([
    deps.prisma.gmailGrant.updateMany({
      where: { mailboxId, signInRequiredAt: null },
      data: { signInRequiredAt: new Date(now()), signInRequiredCode: code },
    }),
    deps.prisma.mailbox.updateMany({
      where: { id: mailboxId },
      data: { enabledForIncoming: false, enabledForOutgoing: false },
    }),
  ]);
  deps.logger.warn({ mailboxId, code }, 'Google refused the Gmail grant: the mailbox needs Sign in to Gmail again');
}
