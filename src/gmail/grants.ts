// A mailbox's one GmailGrant: written (tokens sealed here and nowhere else), opened, and revoked at Google.
// Revocation is best-effort and skipped when another mailbox on the same OAuth client holds the same Google
// account, because Google revokes the whole (client, account) grant whichever token is sent.
import { SEALED } from '../security/secrets.ts';
import type { GmailGrant, Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { Sealer } from '../security/secrets.ts';
import type { Logger } from '../logger.ts';
import type { ReleaseOutcome } from '../mail/credentials.ts';
import { type GoogleClient, GoogleOAuthError } from './google-client.ts';

export interface NewGrant {
  mailboxId: string;
  googleEmail: string;
  accessToken: string;
  expiresIn: number;
  scope: string;
  /** Absent when Google sent none (a re-consent can omit it). */
  refreshToken?: string;
}

/** Replaces the mailbox's grant. Call inside a transaction that has locked the mailbox row. */
export async function writeGrant(
  tx: Prisma.TransactionClient,
  sealer: Sealer,
  g: NewGrant,
  now = new Date(),
): Promise<{ needsReconsent: boolean }> {
  const old = await tx.gmailGrant.findUnique({ where: { mailboxId: g.mailboxId } });
  const sameAccount = old && old.googleEmail.toLowerCase() === g.googleEmail.toLowerCase();
  const refreshToken = g.refreshToken
    ? sealer.seal(g.refreshToken, SEALED.grantRefreshToken)
    : sameAccount
      ? old.refreshToken
      : null;
  const data = {
    googleEmail: g.googleEmail.toLowerCase(),
    grantedScopes: g.scope,
    accessToken: sealer.seal(g.accessToken, SEALED.grantAccessToken),
    accessTokenExpiresAt: new Date(now.getTime() + g.expiresIn * 1000),
    refreshToken,
    needsReconsent: !refreshToken,
    issuedAt: now,
    refreshedAt: null,
    // A Testing-status app's refresh token dies 7 days after Google issued it: a kept token keeps its issue time.
    refreshTokenIssuedAt: g.refreshToken ? now : refreshToken ? (old?.refreshTokenIssuedAt ?? null) : null,
    // A new sign-in is what a refused grant needed.
    signInRequiredAt: null,
    signInRequiredCode: null,
  };
  await tx.gmailGrant.upsert({
    where: { mailboxId: g.mailboxId },
    create: { mailboxId: g.mailboxId, ...data },
    update: data,
  });
  return { needsReconsent: !refreshToken };
}

/** The grant's tokens in clear, for the mail checks. Throws SecretError when they cannot be opened. */
export function openGrant(
  sealer: Sealer,
  grant: Pick<GmailGrant, 'accessToken' | 'refreshToken'>,
): { accessToken: string; refreshToken: string | null } {
  return {
    accessToken: sealer.open(grant.accessToken, SEALED.grantAccessToken),
    refreshToken: grant.refreshToken ? sealer.open(grant.refreshToken, SEALED.grantRefreshToken) : null,
  };
}

export type RevokeOutcome = ReleaseOutcome;

/** A sentence for the admin about what happened at Google (empty when there was nothing to say). */
export function revokeNote(outcome: RevokeOutcome): string {
  if (outcome === 'revoked') return ' Google access was revoked.';
  if (outcome === 'failed')
    return ' Google could not be reached to revoke access: remove Mailroom’s access at myaccount.google.com/permissions.';
  return '';
}

export interface RevokeDeps {
  db: { prisma: PrismaClient };
  sealer: Sealer;
  logger: Logger;
  google: GoogleClient;
}

/** Whether another mailbox still holds a grant for this Google account on the same OAuth client. */
async function sharedElsewhere(
  prisma: PrismaClient,
  googleEmail: string,
  clientId: string | null | undefined,
  exceptMailboxId?: string,
): Promise<boolean> {
  if (!clientId) return false;
  const n = await prisma.gmailGrant.count({
    where: {
      googleEmail: { equals: googleEmail, mode: 'insensitive' },
      mailbox: { profile: { oauthClientId: clientId } },
      ...(exceptMailboxId ? { mailboxId: { not: exceptMailboxId } } : {}),
    },
  });
  return n > 0;
}

/** Revokes a token at Google, never throwing: failures are logged (without the token) and reported. */
export async function revokeQuietly(
  deps: RevokeDeps,
  token: string | null | undefined,
  owner: { googleEmail: string; clientId: string | null | undefined; exceptMailboxId?: string },
): Promise<RevokeOutcome> {
  if (!token) return 'none';
  if (await sharedElsewhere(deps.db.prisma, owner.googleEmail, owner.clientId, owner.exceptMailboxId))
    return 'kept-shared';
  try {
    await deps.google.revokeToken(token);
    deps.logger.info({ googleEmail: owner.googleEmail }, 'Google grant revoked');
    return 'revoked';
  } catch (e) {
    // invalid_token: Google no longer knows the token, so there is nothing left to revoke.
    if (e instanceof GoogleOAuthError && e.error === 'invalid_token') return 'revoked';
    deps.logger.warn(
      { googleEmail: owner.googleEmail, error: e instanceof GoogleOAuthError ? e.error : 'unexpected' },
      'Google grant revoke failed',
    );
    return 'failed';
  }
}

/** Revokes a stored grant (refresh token preferred: it kills the access tokens too). */
export async function revokeStoredGrant(
  deps: RevokeDeps,
  grant: GmailGrant,
  clientId: string | null | undefined,
): Promise<RevokeOutcome> {
  let token: string | null;
  try {
    const t = openGrant(deps.sealer, grant);
    token = t.refreshToken ?? t.accessToken;
  } catch {
    return 'failed';
  }
  return revokeQuietly(deps, token, { googleEmail: grant.googleEmail, clientId, exceptMailboxId: grant.mailboxId });
}
