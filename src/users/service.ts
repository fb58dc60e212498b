// What the admin does to app users: add, disable (ending every session of that user) or enable, reset a
// password. Each change is audited; the account rules themselves live in auth/users.ts.
import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { createUser, publicUserSelect, setPassword, type NewUser, type PublicUser } from '../auth/users.ts';
import { endUserSessions, forgetUserSessions } from '../auth/session-store.ts';
import { audit, type AuditEntry } from '../security/audit.ts';

type Who = Pick<AuditEntry, 'actor' | 'ip'>;
const TARGET = 'User';
const idParam = z.uuid();

/** The user, or null for an unknown or malformed id. */
export async function getUser(prisma: Pick<PrismaClient, 'user'>, id: string): Promise<PublicUser | null> {
  const parsed = idParam.safeParse(id);
  return parsed.success ? prisma.user.findUnique({ where: { id: parsed.data }, select: publicUserSelect }) : null;
}

/** Throws DuplicateEmailError (auth/users.ts) when the email is taken. */
export async function addUser(prisma: PrismaClient, input: NewUser, who: Who): Promise<PublicUser> {
  const user = await createUser(prisma, input);
  await audit(prisma, {
    action: 'user.create',
    targetType: TARGET,
    targetId: user.id,
    details: { email: user.email, role: user.role },
    ...who,
  });
  return user;
}

export type EnableResult = { ok: true; signedOut: number } | { ok: false; reason: 'own-account' };

/**
 * Disables or enables an account. Disabling also ends all of the user's sessions at once (found by the
 * session's userId, so no other user's session can match); an admin cannot disable their own account.
 */
export async function setUserEnabled(
  prisma: PrismaClient,
  user: PublicUser,
  enabled: boolean,
  who: Who,
): Promise<EnableResult> {
  if (user.id === who.actor?.id) return { ok: false, reason: 'own-account' };
  const result = await prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { disabledAt: enabled ? null : new Date() } });
    const signedOut = enabled ? 0 : await endUserSessions(tx, user.id);
    await audit(tx, {
      action: enabled ? 'user.enable' : 'user.disable',
      targetType: TARGET,
      targetId: user.id,
      details: { email: user.email, ...(enabled ? {} : { signedOut }) },
      ...who,
    });
    return { ok: true as const, signedOut };
  });
  // endUserSessions dropped this process's cached sessions of the user before the commit; a request in between read
  // the rows as they still were (decision 033).
  if (!enabled) forgetUserSessions(user.id);
  return result;
}

export async function resetPassword(prisma: PrismaClient, user: PublicUser, password: string, who: Who): Promise<void> {
  await setPassword(prisma, user.id, password);
  await audit(prisma, {
    action: 'user.password-reset',
    targetType: TARGET,
    targetId: user.id,
    details: { email: user.email },
    ...who,
  });
}
