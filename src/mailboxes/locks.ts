// Row lock on a mailbox for the rest of a transaction: grant writes, sign-in results and address/profile changes
// serialise on it, so a sign-in that finishes while the mailbox is edited cannot store a grant for a stale address.
import type { Prisma } from '../generated/prisma/client.ts';

/** Locks the mailbox row; false when it does not exist (deleted meanwhile). */
export async function lockMailbox(tx: Prisma.TransactionClient, mailboxId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM "Mailbox" WHERE id = ${mailboxId} FOR UPDATE`;
  return rows.length > 0;
}
