// Email server profile rules: read, count usage, create, update, delete, the one default Gmail profile, and the
// write-only Client Secret (sealed here, never returned to views). Every change is audited in its own transaction.
import { SEALED } from '../security/secrets.ts';
import type { EmailServerProfile, Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { Sealer } from '../security/secrets.ts';
import { audit, type AuditEntry } from '../security/audit.ts';
import type { ProfileData, SecretChange } from './form.ts';
import { changedFields } from './changes.ts';

export { GMAIL_PROFILE_CAPACITY } from '../mail/auth-methods.ts';

type Tx = Prisma.TransactionClient;
type Who = Pick<AuditEntry, 'actor' | 'ip'>;
export interface ProfileDeps {
  prisma: PrismaClient;
  sealer: Sealer;
}
export interface ProfileInput {
  data: ProfileData;
  secret: SecretChange;
}

/** A profile as views see it: the sealed secret replaced by whether one is stored. */
export type ProfileView = Omit<EmailServerProfile, 'oauthClientSecret'> & { hasClientSecret: boolean };

export function publicProfile(p: EmailServerProfile): ProfileView {
  const { oauthClientSecret, ...rest } = p;
  return { ...rest, hasClientSecret: Boolean(oauthClientSecret) };
}

export class DuplicateProfileNameError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TARGET = 'EmailServerProfile';

/** The full row (oauthClientSecret still sealed), or null for an unknown or malformed id. */
export async function getProfile(
  prisma: Pick<PrismaClient, 'emailServerProfile'>,
  id: string,
): Promise<EmailServerProfile | null> {
  return UUID.test(id) ? prisma.emailServerProfile.findUnique({ where: { id } }) : null;
}

/** Mailboxes per profile id; every id asked for is in the map (0 when unused). */
export async function profileUsage(
  prisma: Pick<PrismaClient, 'mailbox'>,
  ids: readonly string[],
): Promise<Map<string, number>> {
  const usage = new Map(ids.map((id) => [id, 0]));
  if (!ids.length) return usage;
  const rows = await prisma.mailbox.groupBy({
    by: ['profileId'],
    where: { profileId: { in: [...ids] } },
    _count: { _all: true },
  });
  for (const r of rows) if (r.profileId) usage.set(r.profileId, r._count._all);
  return usage;
}

/** Makes `id` the only default Gmail profile: serialised by a transaction lock, as the schema has no partial unique index. */
async function takeDefault(tx: Tx, id: string | null, who: Who): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM pg_advisory_xact_lock(hashtext('mailroom.profile.default-gmail'))`;
  const others = await tx.emailServerProfile.findMany({
    where: { isDefaultGmail: true, ...(id ? { id: { not: id } } : {}) },
    select: { id: true, name: true },
  });
  if (!others.length) return;
  await tx.emailServerProfile.updateMany({
    where: { id: { in: others.map((o) => o.id) } },
    data: { isDefaultGmail: false },
  });
  for (const o of others)
    await audit(tx, {
      action: 'profile.update',
      targetType: TARGET,
      targetId: o.id,
      details: { name: o.name, changed: ['isDefaultGmail'] },
      ...who,
    });
}

async function auditSecret(tx: Tx, p: EmailServerProfile, secret: SecretChange, who: Who): Promise<void> {
  if (secret.kind === 'keep') return;
  await audit(tx, {
    action: secret.kind === 'set' ? 'profile.secret-set' : 'profile.secret-cleared',
    targetType: TARGET,
    targetId: p.id,
    details: { name: p.name },
    ...who,
  });
}

function secretColumn(sealer: Sealer, secret: SecretChange): { oauthClientSecret?: string | null } {
  if (secret.kind === 'set') return { oauthClientSecret: sealer.seal(secret.value, SEALED.profileClientSecret) };
  return secret.kind === 'clear' ? { oauthClientSecret: null } : {};
}

function isDuplicate(e: unknown): boolean {
  return (e as { code?: string }).code === 'P2002';
}

export async function createProfile(
  { prisma, sealer }: ProfileDeps,
  input: ProfileInput,
  who: Who,
): Promise<EmailServerProfile> {
  try {
    return await prisma.$transaction(async (tx) => {
      const p = await tx.emailServerProfile.create({
        data: { ...input.data, ...secretColumn(sealer, input.secret), ownerId: who.actor?.id ?? null },
      });
      if (p.isDefaultGmail) await takeDefault(tx, p.id, who);
      await audit(tx, {
        action: 'profile.create',
        targetType: TARGET,
        targetId: p.id,
        details: { name: p.name, serverType: p.serverType, authenticateUsing: p.authenticateUsing },
        ...who,
      });
      await auditSecret(tx, p, input.secret, who);
      return p;
    });
  } catch (e) {
    if (isDuplicate(e))
      throw new DuplicateProfileNameError(`An email server profile named ${input.data.name} already exists`);
    throw e;
  }
}

/** Saves a profile; returns null when it no longer exists. A blank secret (kind "keep") leaves the stored one. */
export async function updateProfile(
  { prisma, sealer }: ProfileDeps,
  id: string,
  input: ProfileInput,
  who: Who,
): Promise<{ profile: EmailServerProfile; changed: string[] } | null> {
  try {
    return await prisma.$transaction(async (tx) => {
      const before = await getProfile(tx, id);
      if (!before) return null;
      const changed = changedFields(before, input.data);
      if (!changed.length && input.secret.kind === 'keep') return { profile: before, changed };
      const p = await tx.emailServerProfile.update({
        where: { id },
        data: { ...input.data, ...secretColumn(sealer, input.secret) },
      });
      if (p.isDefaultGmail && !before.isDefaultGmail) await takeDefault(tx, p.id, who);
      if (changed.length)
        await audit(tx, {
          action: 'profile.update',
          targetType: TARGET,
          targetId: p.id,
          details: { name: p.name, changed },
          ...who,
        });
      await auditSecret(tx, p, input.secret, who);
      return { profile: p, changed };
    });
  } catch (e) {
    if (isDuplicate(e))
      throw new DuplicateProfileNameError(`An email server profile named ${input.data.name} already exists`);
    throw e;
  }
}

export type DeleteResult = { deleted: EmailServerProfile } | { inUse: number } | null;

/** Deletes an unused profile. Refuses (and audits the refusal) while any mailbox uses it; null when it does not exist. */
export async function deleteProfile(prisma: PrismaClient, id: string, who: Who): Promise<DeleteResult> {
  const refuse = async (p: EmailServerProfile, inUse: number) => {
    await audit(prisma, {
      action: 'profile.delete',
      result: 'FAILURE',
      targetType: TARGET,
      targetId: p.id,
      details: { name: p.name, reason: 'in use', mailboxes: inUse },
      ...who,
    });
    return { inUse };
  };
  const p = await getProfile(prisma, id);
  if (!p) return null;
  const inUse = (await profileUsage(prisma, [id])).get(id) ?? 0;
  if (inUse) return refuse(p, inUse);
  try {
    await prisma.$transaction(async (tx) => {
      await tx.emailServerProfile.delete({ where: { id } });
      await audit(tx, {
        action: 'profile.delete',
        targetType: TARGET,
        targetId: p.id,
        details: { name: p.name },
        ...who,
      });
    });
    return { deleted: p };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'P2025') return null; // deleted meanwhile
    if (code !== 'P2003') throw e; // a mailbox was added to it meanwhile: the foreign key refused
    return refuse(p, (await profileUsage(prisma, [id])).get(id) ?? 0);
  }
}
