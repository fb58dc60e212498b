// Mailboxes that are enabled for incoming synchronization, for the cluster and sync tests (no mail servers needed).
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';

export async function createSyncProfile(prisma: PrismaClient, o: { maxConcurrentConnections?: number } = {}) {
  const owner = await prisma.user.create({
    data: { email: `owner-${randomBytes(4).toString('hex')}@example.com`, name: 'Owner', passwordHash: 'x' },
  });
  const profile = await prisma.emailServerProfile.create({
    data: {
      name: `Sync ${randomBytes(3).toString('hex')}`,
      incomingServer: 'imap.example.com',
      incomingPort: 993,
      outgoingServer: 'smtp.example.com',
      outgoingPort: 587,
      maxConcurrentConnections: o.maxConcurrentConnections ?? 10,
    },
  });
  return { owner, profile };
}

/** n mailboxes of a new profile, each enabled for incoming Server-Side Synchronization and approved. */
export async function createEnabledMailboxes(
  prisma: PrismaClient,
  n: number,
  o: { enabled?: boolean } = {},
): Promise<{ ids: string[]; profileId: string; ownerId: string }> {
  const { owner, profile } = await createSyncProfile(prisma);
  const tag = randomBytes(3).toString('hex');
  await prisma.mailbox.createMany({
    data: Array.from({ length: n }, (_, i) => ({
      name: `Mailbox ${tag} ${i}`,
      emailAddress: `mb-${tag}-${i}@example.com`,
      ownerId: owner.id,
      profileId: profile.id,
      emailApproval: 'APPROVED' as const,
      incomingEmail: 'SERVER_SIDE_SYNC' as const,
      enabledForIncoming: o.enabled ?? true,
    })),
  });
  const rows = await prisma.mailbox.findMany({
    where: { profileId: profile.id },
    select: { id: true },
    orderBy: { name: 'asc' },
  });
  return { ids: rows.map((r) => r.id), profileId: profile.id, ownerId: owner.id };
}
