// At most so many mailboxes per profile where its Authenticate Using sets a capacity (100 per Gmail OAuth profile:
// one OAuth client should not serve more). Concurrent assignments serialise on a row lock of the profile, so the
// count can never overshoot.
import type { EmailServerProfile, Prisma } from '../generated/prisma/client.ts';
import { authMethod, GMAIL_PROFILE_CAPACITY } from '../mail/auth-methods.ts';

export { GMAIL_PROFILE_CAPACITY };

export class ProfileFullError extends Error {
  constructor(
    readonly profileName: string,
    readonly capacity: number,
    method: string,
  ) {
    super(
      `The email server profile “${profileName}” already serves ${capacity} mailboxes, the most one ${method} client should. Create another ${method} email server profile (with its own OAuth client) and choose it for this mailbox.`,
    );
  }
}

export class ProfileMissingError extends Error {}

/**
 * Locks the profile row, then checks there is room for one more mailbox (not counting `exceptMailboxId`).
 * Call only inside an interactive transaction, with its tx client (on PGlite the global client would deadlock).
 */
export async function lockProfileWithRoom(
  tx: Prisma.TransactionClient,
  profileId: string,
  exceptMailboxId?: string,
): Promise<EmailServerProfile> {
  await tx.$queryRaw`SELECT id FROM "EmailServerProfile" WHERE id = ${profileId} FOR UPDATE`;
  const profile = await tx.emailServerProfile.findUnique({ where: { id: profileId } });
  if (!profile) throw new ProfileMissingError('No such email server profile');
  const { mailboxCapacity: capacity, label } = authMethod(profile);
  if (capacity === null) return profile;
  const used = await tx.mailbox.count({
    where: { profileId, ...(exceptMailboxId ? { id: { not: exceptMailboxId } } : {}) },
  });
  if (used >= capacity) throw new ProfileFullError(profile.name, capacity, label);
  return profile;
}

/** Interactive transactions wait for the profile lock under load: give them room beyond Prisma's 2 s / 5 s. */
export const TX_OPTIONS = { maxWait: 15_000, timeout: 30_000 } as const;
