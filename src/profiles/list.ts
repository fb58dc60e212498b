// The profile list: search by name, sort by a column, 50 per page, with each profile's mailbox count.
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { defineList, type QueryOf } from '../web/list.ts';
import type { ProfileView } from './service.ts';
import { authMethod } from '../mail/auth-methods.ts';

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

export type ProfileRow = Omit<ProfileView, 'hasClientSecret'> & { mailboxCount: number; capacity: number | null };

export async function listProfiles(prisma: PrismaClient, l: ProfileListQuery) {
  const where: Prisma.EmailServerProfileWhereInput = l.q ? { name: { contains: l.q, mode: 'insensitive' } } : {};
  const page = await profileList.read(l, {
    rows: (w) =>
      prisma.emailServerProfile.findMany({
        where,
        ...w,
        omit: { oauthClientSecret: true },
        include: { _count: { select: { mailboxes: true } } },
      }),
    count: (upTo) => prisma.emailServerProfile.count({ where, take: upTo }),
  });
  const rows: ProfileRow[] = page.rows.map(({ _count, ...p }) => ({
    ...p,
    mailboxCount: _count.mailboxes,
    capacity: authMethod(p).mailboxCapacity,
  }));
  return { ...page, rows };
}
