// A mailbox's synchronization cursor (MailboxSync): where new mail continues, how far the first synchronization got
// backwards, and the Process Email From boundary. Writes are fenced by ownership like ingest's.
import type { Database } from '../db/client.ts';
import { LeaseLostError } from './ingest.ts';

export interface SyncCursor {
  uidValidity: bigint | null;
  lastUid: bigint | null;
  backfillBelowUid: bigint | null;
  syncFrom: Date | null;
  firstSyncDoneAt: Date | null;
  messagesSynced: number;
}

export async function readCursor(db: Database, mailboxId: string): Promise<SyncCursor | null> {
  return db.prisma.mailboxSync.findUnique({
    where: { mailboxId },
    select: {
      uidValidity: true,
      lastUid: true,
      backfillBelowUid: true,
      syncFrom: true,
      firstSyncDoneAt: true,
      messagesSynced: true,
    },
  });
}

/**
 * Starts the cursor over for a (new) UIDVALIDITY: first connection, or the server renumbered the folder. Stored
 * emails stay; the first synchronization runs again from `syncFrom` and Message-ID dedupe skips what is already there.
 */
export async function resetCursor(
  db: Database,
  o: { mailboxId: string; ownerId: string; uidValidity: bigint; syncFrom: Date },
): Promise<void> {
  const n = await db.prisma.mailboxSync.updateMany({
    where: { mailboxId: o.mailboxId, ownerId: o.ownerId },
    data: {
      uidValidity: o.uidValidity,
      lastUid: null,
      backfillBelowUid: null,
      firstSyncDoneAt: null,
      syncFrom: o.syncFrom,
    },
  });
  if (n.count === 0) throw new LeaseLostError(o.mailboxId);
}

/**
 * Where the first synchronization starts (issue 11): the mailbox's Process Email From, else the profile's, else the
 * time the mailbox became a synchronization candidate (its MailboxSync row was created when it was enabled).
 */
export function firstSyncBoundary(o: { mailboxFrom: Date | null; profileFrom: Date | null; enabledAt: Date }): Date {
  return o.mailboxFrom ?? o.profileFrom ?? o.enabledAt;
}
