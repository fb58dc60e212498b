// Which alerts a user sees: an admin all of them (mailboxes' and profiles'), a mailbox user those of the mailboxes
// they own (a profile's alerts concern every mailbox on it, which is the admin's business).
import type { Prisma } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';

export function visibleAlertsWhere(user: Pick<PublicUser, 'id' | 'role'>): Prisma.AlertWhereInput {
  return user.role === 'ADMIN' ? {} : { mailbox: { ownerId: user.id } };
}
