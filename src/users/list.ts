// The user list (admin): search by name or email, sort by a column, 50 per page, with each user's mailbox count.
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { publicUserSelect } from '../auth/users.ts';
import { defineList, type QueryOf } from '../web/list.ts';
import { listView, searchForm } from '../web/list-view.ts';
import { containsText } from '../web/list-sql.ts';

export const userList = defineList<
  Prisma.UserOrderByWithRelationInput,
  'name' | 'email' | 'role' | 'mailboxes' | 'status'
>({
  sorts: {
    name: { label: 'Name', orderBy: (d) => [{ name: d }] },
    email: { label: 'Email', orderBy: (d) => [{ email: d }] },
    role: { label: 'Role', orderBy: (d) => [{ role: d }] },
    mailboxes: { label: 'Mailboxes', first: 'desc', orderBy: (d) => [{ mailboxes: { _count: d } }] },
    // ascending: active users first, then the longest disabled
    status: { label: 'Status', orderBy: (d) => [{ disabledAt: { sort: d, nulls: d === 'asc' ? 'first' : 'last' } }] },
  },
  defaultSort: 'email',
  tiebreak: [{ email: 'asc' }, { id: 'asc' }],
  searchMax: 200,
});
export type UserListQuery = QueryOf<typeof userList>;

export async function listUsers(prisma: PrismaClient, l: UserListQuery) {
  const where: Prisma.UserWhereInput = l.q ? { OR: [{ email: containsText(l.q) }, { name: containsText(l.q) }] } : {};
  const page = await userList.read(l, {
    rows: (w) =>
      prisma.user.findMany({ where, ...w, select: { ...publicUserSelect, _count: { select: { mailboxes: true } } } }),
    count: (upTo) => prisma.user.count({ where, take: upTo }),
  });
  return { ...page, rows: page.rows.map(({ _count, ...u }) => ({ ...u, mailboxCount: _count.mailboxes })) };
}

export function userListPage(page: Awaited<ReturnType<typeof listUsers>>) {
  return {
    title: 'Users',
    ...listView(userList, page, ['name', 'email', 'role', 'mailboxes', 'status', { label: 'Actions', srOnly: true }]),
    search: searchForm(userList, page.query, { label: 'Search users', placeholder: 'Name or email' }),
  };
}
