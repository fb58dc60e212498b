// The profile list: search by name, sort by a column, 50 per page, with each profile's mailbox count.
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { defineList, type QueryOf } from '../web/list.ts';
import { authMethod } from '../mail/auth-methods.ts';
import { containsText } from '../web/list-sql.ts';

export const profileList = defineList<
  Prisma.EmailServerProfileOrderByWithRelationInput,
  'name' | 'serverType' | 'authenticateUsing' | 'mailboxes' | 'modifiedOn'
>({
  sorts: {
    name: { label: 'Name', orderBy: (d) => [{ name: d }] },
    serverType: { label: 'Server Type', orderBy: (d) => [{ serverType: d }] },
    authenticateUsing: { label: 'Authenticate Using', orderBy: (d) => [{ authenticateUsing: d }] },
    mailboxes: { label: 'Mailboxes', first: 'desc', orderBy: (d) => [{ mailboxes: { _count: d } }] },
    modifiedOn: { label: 'Modified On', first: 'desc', orderBy: (d) => [{ updatedAt: d }] },
  },
  defaultSort: 'name',
  tiebreak: [{ name: 'asc' }, { id: 'asc' }],
  searchMax: 100,
});
export type ProfileListQuery = QueryOf<typeof profileList>;

/** Only what a row shows: not the sealed secret, nor the settings the record page shows. */
const rowSelect = {
  id: true,
  name: true,
  serverType: true,
  incomingServer: true,
  authenticateUsing: true,
  isDefaultGmail: true,
  updatedAt: true,
} as const satisfies Prisma.EmailServerProfileSelect;

export type ProfileRow = Prisma.EmailServerProfileGetPayload<{ select: typeof rowSelect }> & {
  mailboxCount: number;
  capacity: number | null;
};

/**
 * Mailbox counts of the page's profiles only, in one grouped query on Mailbox's profileId index. Prisma's `_count`
 * joins a count of every profile's mailboxes to each page (a scan of the whole Mailbox table); only the sort by
 * mailbox count needs that, and keeps it.
 */
async function mailboxCounts(prisma: PrismaClient, ids: string[]): Promise<Map<string, number>> {
  if (!ids.length) return new Map();
  const groups = await prisma.mailbox.groupBy({
    by: ['profileId'],
    where: { profileId: { in: ids } },
    _count: { _all: true },
  });
  return new Map(groups.map((g) => [g.profileId as string, g._count._all]));
}

export async function listProfiles(prisma: PrismaClient, l: ProfileListQuery) {
  const where: Prisma.EmailServerProfileWhereInput = l.q ? { name: containsText(l.q) } : {};
  const byCount = l.sort === 'mailboxes';
  const page = await profileList.read(l, {
    rows: (w) =>
      byCount
        ? prisma.emailServerProfile
            .findMany({ where, ...w, select: { ...rowSelect, _count: { select: { mailboxes: true } } } })
            .then((rows) => rows.map(({ _count, ...p }) => ({ ...p, mailboxCount: _count.mailboxes as number | null })))
        : prisma.emailServerProfile
            .findMany({ where, ...w, select: rowSelect })
            .then((rows) => rows.map((p) => ({ ...p, mailboxCount: null as number | null }))),
    count: (upTo) => prisma.emailServerProfile.count({ where, take: upTo }),
  });
  const counts = byCount
    ? null
    : await mailboxCounts(
        prisma,
        page.rows.map((p) => p.id),
      );
  const rows: ProfileRow[] = page.rows.map((p) => ({
    ...p,
    mailboxCount: p.mailboxCount ?? counts?.get(p.id) ?? 0,
    capacity: authMethod(p).mailboxCapacity,
  }));
  return { ...page, rows };
}
