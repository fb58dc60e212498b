// The mailbox record's Incoming Synchronization panel: its sync state and its latest emails, with a link to the
// Emails list filtered by the mailbox. The mailbox record (mailboxes/pages.ts) calls this.
import type { PrismaClient } from '../generated/prisma/client.ts';
import { emailRow, emailRowSelect } from './rows.ts';
import { syncPanel, type SyncMailbox } from './sync-state.ts';

export async function mailboxSyncPanel(prisma: PrismaClient, mailbox: SyncMailbox & { id: string }, take = 10) {
  const [sync, latest] = await Promise.all([
    prisma.mailboxSync.findUnique({
      where: { mailboxId: mailbox.id },
      select: {
        state: true,
        retryCount: true,
        nextAttemptAt: true,
        lastErrorCode: true,
        lastErrorMessage: true,
        lastErrorHint: true,
        lastErrorAt: true,
        stoppedReason: true,
        lastMessageAt: true,
        messagesSynced: true,
        syncFrom: true,
        firstSyncDoneAt: true,
      },
    }),
    prisma.email.findMany({
      where: { mailboxId: mailbox.id },
      orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }],
      take,
      select: emailRowSelect,
    }),
  ]);
  return {
    ...syncPanel(mailbox, sync),
    emails: latest.map((e) => emailRow(e)),
    allEmails: `/emails?mailbox=${mailbox.id}`,
    allAlerts: `/alerts?mailbox=${mailbox.id}`,
  };
}
export type MailboxSyncPanel = Awaited<ReturnType<typeof mailboxSyncPanel>>;
