// Factories for what the synchronization engine writes (Email, MailboxSync, Alert rows) and the mailboxes they belong
// to, so page tests, the sandbox and benchmarks can show mail without running a sync. Defaults are plausible; every
// field can be overridden.
import { randomBytes } from 'node:crypto';
import type { Prisma, PrismaClient } from '../../src/generated/prisma/client.ts';

const tag = () => randomBytes(4).toString('hex');

/** A profile (IMAP, Gmail-like hosts) for mailboxes that only need to exist. */
export function createProfileRow(prisma: PrismaClient, o: Partial<Prisma.EmailServerProfileUncheckedCreateInput> = {}) {
  return prisma.emailServerProfile.create({
    data: {
      name: `Profile ${tag()}`,
      incomingServer: 'imap.gmail.com',
      incomingPort: 993,
      outgoingServer: 'smtp.gmail.com',
      outgoingPort: 587,
      ...o,
    },
  });
}

/** An approved mailbox enabled for incoming Server-Side Synchronization, owned by `ownerId`. */
export function createMailboxRow(
  prisma: PrismaClient,
  o: { ownerId: string } & Partial<Prisma.MailboxUncheckedCreateInput>,
) {
  const t = tag();
  return prisma.mailbox.create({
    data: {
      name: `Mailbox ${t}`,
      emailAddress: `mailbox-${t}@gmail.test`,
      emailApproval: 'APPROVED',
      incomingStatus: 'SUCCESS',
      enabledForIncoming: true,
      ...o,
    },
  });
}

export type EmailInput = Partial<Prisma.EmailUncheckedCreateInput> & { mailboxId: string };

/** One incoming email as the sync stores it: plain-text body, one recipient, received now unless told. */
export function emailData(o: EmailInput): Prisma.EmailUncheckedCreateInput {
  const at = (o.occurredAt as Date | undefined) ?? new Date();
  return {
    direction: 'INCOMING',
    status: 'RECEIVED',
    messageId: `<${tag()}.${Date.now()}@mail.test>`,
    fromAddress: 'sender@example.com',
    fromName: 'Sender',
    to: [{ address: 'mailbox@gmail.test', name: '' }],
    subject: 'Hello',
    text: 'Hello there.',
    size: 1234,
    receivedAt: at,
    sentAt: at,
    occurredAt: at,
    ...o,
  };
}

export function createEmailRow(prisma: PrismaClient, o: EmailInput) {
  return prisma.email.create({ data: emailData(o) });
}

/** n emails of one mailbox, a minute apart going back from `start`; `each` varies them by index. */
export async function createEmailRows(
  prisma: PrismaClient,
  mailboxId: string,
  n: number,
  each: (i: number) => Partial<Prisma.EmailUncheckedCreateInput> = () => ({}),
  start = new Date(),
): Promise<void> {
  const data = Array.from({ length: n }, (_, i) => {
    const at = new Date(start.getTime() - i * 60_000);
    return emailData({ mailboxId, occurredAt: at, subject: `Message ${i}`, ...each(i) });
  });
  for (let i = 0; i < data.length; i += 1000) await prisma.email.createMany({ data: data.slice(i, i + 1000) });
}

/** The mailbox's MailboxSync row as the engine leaves it (state, cursor, errors), created or replaced. */
export function setMailboxSync(
  prisma: PrismaClient,
  mailboxId: string,
  o: Partial<Prisma.MailboxSyncUncheckedCreateInput> = {},
) {
  const data = { state: 'CONNECTED' as const, ...o };
  return prisma.mailboxSync.upsert({ where: { mailboxId }, create: { mailboxId, ...data }, update: data });
}

export function createAlertRow(
  prisma: PrismaClient,
  o: Partial<Prisma.AlertUncheckedCreateInput> & ({ mailboxId: string } | { profileId: string }),
) {
  return prisma.alert.create({
    data: { level: 'ERROR', code: 'TOKEN_REVOKED', message: 'Google refused the refresh token.', ...o },
  });
}
