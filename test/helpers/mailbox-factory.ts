// Profiles and mailboxes straight in the database for bulk and import tests (the pages that create them are tested
// elsewhere): a Gmail OAuth profile (capacity 100), a credentials-per-mailbox one, and N mailboxes on a profile.
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import type { Sealer } from '../../src/security/secrets.ts';

export const rand = () => randomBytes(4).toString('hex');

export function gmailProfile(prisma: PrismaClient, sealer: Sealer, o: { name?: string } = {}) {
  return prisma.emailServerProfile.create({
    data: {
      name: o.name ?? `Gmail ${rand()}`,
      incomingServer: 'imap.gmail.com',
      incomingPort: 993,
      outgoingServer: 'smtp.gmail.com',
      outgoingPort: 587,
      authenticateUsing: 'GMAIL_OAUTH',
      oauthClientId: 'cid',
      oauthClientSecret: sealer.seal('secret', 'profile.oauthClientSecret'),
    },
  });
}

export function credentialsProfile(prisma: PrismaClient, o: { name?: string } = {}) {
  return prisma.emailServerProfile.create({
    data: {
      name: o.name ?? `Mail ${rand()}`,
      incomingServer: 'mail.example.com',
      incomingPort: 993,
      outgoingServer: 'mail.example.com',
      outgoingPort: 587,
      authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
    },
  });
}

export async function mailboxes(
  prisma: PrismaClient,
  n: number,
  o: { ownerId: string; profileId?: string | null; prefix?: string; emailApproval?: 'PENDING' | 'APPROVED' },
) {
  const prefix = o.prefix ?? `mb-${rand()}`;
  await prisma.mailbox.createMany({
    data: Array.from({ length: n }, (_, i) => ({
      name: `${prefix} ${String(i).padStart(3, '0')}`,
      emailAddress: `${prefix}-${i}@example.com`.toLowerCase(),
      ownerId: o.ownerId,
      profileId: o.profileId ?? null,
      emailApproval: o.emailApproval ?? 'PENDING',
    })),
  });
  return prisma.mailbox.findMany({ where: { name: { startsWith: prefix } }, orderBy: { name: 'asc' } });
}
