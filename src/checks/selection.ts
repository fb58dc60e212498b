// Which mailboxes a Test & Enable request is about, and their live statuses: only mailboxes the user may see (others
// are dropped, as they would be 404s), or every mailbox of a profile (admins).
import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import { visibleMailboxesWhere } from '../mailboxes/access.ts';
import { getProfile } from '../profiles/service.ts';
import { HttpError } from '../web/errors.ts';
import { liveStatus, statusSelect, type LiveStatus } from './report.ts';

/** Mailbox ids from a form (repeated field) or a query string (comma-separated), at most 1,000. */
export const mailboxIds = z.preprocess(
  (v) => (v === undefined ? [] : Array.isArray(v) ? v : String(v).split(',')),
  z.array(z.uuid()).max(1000),
);

type User = Pick<PublicUser, 'id' | 'role'>;
const listed = { id: true, name: true, emailAddress: true, profile: { select: { name: true } } } as const;

/** The selected mailboxes the user may see, by name; none for a malformed selection. */
export async function selectedMailboxes(prisma: PrismaClient, user: User, raw: unknown) {
  const parsed = mailboxIds.safeParse(raw);
  if (!parsed.success || !parsed.data.length) return [];
  return prisma.mailbox.findMany({
    where: { id: { in: parsed.data }, ...visibleMailboxesWhere(user) },
    select: listed,
    orderBy: { name: 'asc' },
  });
}

export async function liveStatuses(prisma: PrismaClient, user: User, ids: string[]): Promise<LiveStatus[]> {
  const rows = await prisma.mailbox.findMany({
    where: { id: { in: ids }, ...visibleMailboxesWhere(user) },
    select: statusSelect,
  });
  return rows.map(liveStatus);
}

/** A profile and all its mailboxes, by name (Test & Enable all mailboxes on a profile); 404 for an unknown profile. */
export async function profileWithMailboxes(prisma: PrismaClient, profileId: string) {
  const profile = await getProfile(prisma, profileId);
  if (!profile) throw new HttpError(404, 'No such email server profile.');
  const mailboxes = await prisma.mailbox.findMany({
    where: { profileId: profile.id },
    select: listed,
    orderBy: { name: 'asc' },
  });
  return { profile, mailboxes };
}
