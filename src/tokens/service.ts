// Personal API tokens: made (shown once, stored as a SHA-256 hash), listed with their last use, revoked, and checked on
// every API request. A token acts with its owner's role; its scope only narrows that (read-only: no writes).
import { createHash, randomBytes } from 'node:crypto';
import type { ApiToken, ApiTokenScope, PrismaClient } from '../generated/prisma/client.ts';
import { publicUserSelect, type PublicUser } from '../auth/users.ts';
import { audit, type AuditEntry } from '../security/audit.ts';
import type { NewToken } from './form.ts';

type Who = Pick<AuditEntry, 'actor' | 'ip'>;
const TARGET = 'ApiToken';
/** Every token starts so: a secret scanner (or a person) can tell it is a Mailroom token. */
export const TOKEN_PREFIX = 'mrt_';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A token as lists show it: never its hash. */
export type TokenView = Omit<ApiToken, 'tokenHash'> & { owner: { id: string; email: string; name: string } };

export const hashToken = (raw: string): string => createHash('sha256').update(raw, 'utf8').digest('hex');

const viewSelect = {
  id: true,
  ownerId: true,
  name: true,
  scope: true,
  prefix: true,
  expiresAt: true,
  lastUsedAt: true,
  lastUsedIp: true,
  revokedAt: true,
  revokedById: true,
  createdAt: true,
  owner: { select: { id: true, email: true, name: true } },
} as const;

/** Active, expired or revoked, for a list's status column. */
export function tokenState(
  t: Pick<ApiToken, 'expiresAt' | 'revokedAt'>,
  now = new Date(),
): 'ACTIVE' | 'EXPIRED' | 'REVOKED' {
  if (t.revokedAt) return 'REVOKED';
  if (t.expiresAt && t.expiresAt <= now) return 'EXPIRED';
  return 'ACTIVE';
}

/** Makes a token for `owner`; the returned `token` is the only time it exists outside the caller's hands. */
export async function createToken(
  prisma: PrismaClient,
  owner: Pick<PublicUser, 'id' | 'email'>,
  input: NewToken,
  who: Who,
): Promise<{ token: string; record: TokenView }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const record = await prisma.$transaction(async (tx) => {
    const t = await tx.apiToken.create({
      data: {
        ownerId: owner.id,
        name: input.name,
        scope: input.scope,
        prefix: token.slice(0, TOKEN_PREFIX.length + 6),
        tokenHash: hashToken(token),
        expiresAt: input.expiresAt,
      },
      select: viewSelect,
    });
    await audit(tx, {
      action: 'api-token.create',
      targetType: TARGET,
      targetId: t.id,
      details: { name: t.name, scope: t.scope, owner: owner.email, expiresAt: t.expiresAt?.toISOString() ?? null },
      ...who,
    });
    return t;
  });
  return { token, record };
}

/** A user's own tokens, or (admin, `all`) everyone's, newest first. */
export function listTokens(prisma: PrismaClient, viewer: Pick<PublicUser, 'id' | 'role'>, all = false) {
  return prisma.apiToken.findMany({
    where: all && viewer.role === 'ADMIN' ? {} : { ownerId: viewer.id },
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    select: viewSelect,
    take: 500,
  });
}

/** Revokes a token its owner or an admin may see; null when there is none (or it is someone else's, for a user). */
export async function revokeToken(
  prisma: PrismaClient,
  viewer: Pick<PublicUser, 'id' | 'role'>,
  id: string,
  who: Who,
): Promise<TokenView | null> {
  if (!UUID.test(id)) return null;
  const t = await prisma.apiToken.findFirst({
    where: { id, ...(viewer.role === 'ADMIN' ? {} : { ownerId: viewer.id }) },
    select: viewSelect,
  });
  if (!t) return null;
  if (t.revokedAt) return t;
  return prisma.$transaction(async (tx) => {
    const revoked = await tx.apiToken.update({
      where: { id },
      data: { revokedAt: new Date(), revokedById: viewer.id },
      select: viewSelect,
    });
    await audit(tx, {
      action: 'api-token.revoke',
      targetType: TARGET,
      targetId: id,
      details: { name: t.name, owner: t.owner.email },
      ...who,
    });
    return revoked;
  });
}

export type TokenCheck =
  | { ok: true; token: { id: string; name: string; scope: ApiTokenScope }; user: PublicUser }
  | { ok: false; reason: 'unknown' | 'revoked' | 'expired' | 'owner-disabled'; tokenId?: string };

/**
 * Finds the token a request carries. Looked up by hash, so the comparison is on a digest and the raw token is never
 * stored or compared. Records the use (time and IP) on the token row.
 */
export async function checkToken(prisma: PrismaClient, raw: string, ip: string | null): Promise<TokenCheck> {
  if (!raw.startsWith(TOKEN_PREFIX) || raw.length > 200) return { ok: false, reason: 'unknown' };
  const t = await prisma.apiToken.findUnique({
    where: { tokenHash: hashToken(raw) },
    select: {
      id: true,
      name: true,
      scope: true,
      expiresAt: true,
      revokedAt: true,
      owner: { select: publicUserSelect },
    },
  });
  if (!t) return { ok: false, reason: 'unknown' };
  const state = tokenState(t);
  if (state === 'REVOKED') return { ok: false, reason: 'revoked', tokenId: t.id };
  if (state === 'EXPIRED') return { ok: false, reason: 'expired', tokenId: t.id };
  if (t.owner.disabledAt) return { ok: false, reason: 'owner-disabled', tokenId: t.id };
  await prisma.apiToken.update({ where: { id: t.id }, data: { lastUsedAt: new Date(), lastUsedIp: ip } });
  return { ok: true, token: { id: t.id, name: t.name, scope: t.scope }, user: t.owner };
}
