// The profile list: search by name, sort by a column (?sort=name&dir=asc), 50 per page, with mailbox counts.
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { pageParam } from '../web/forms.ts';
import { GMAIL_PROFILE_CAPACITY, type ProfileView } from './service.ts';

export const PAGE_SIZE = 50;

type Dir = 'asc' | 'desc';
const ORDER = {
  name: { label: 'Name', first: 'asc', by: (d) => ({ name: d }) },
  serverType: { label: 'Server Type', first: 'asc', by: (d) => ({ serverType: d }) },
  authenticateUsing: { label: 'Authenticate Using', first: 'asc', by: (d) => ({ authenticateUsing: d }) },
  mailboxes: { label: 'Mailboxes', first: 'desc', by: (d) => ({ mailboxes: { _count: d } }) },
  modifiedOn: { label: 'Modified On', first: 'desc', by: (d) => ({ updatedAt: d }) },
} satisfies Record<string, { label: string; first: Dir; by: (d: Dir) => Prisma.EmailServerProfileOrderByWithRelationInput }>;
export type SortKey = keyof typeof ORDER;

export interface ListQuery { q: string; sort: SortKey; dir: Dir; page: number }

export function parseListQuery(query: Record<string, unknown>): ListQuery {
  const sort: SortKey = typeof query.sort === 'string' && Object.hasOwn(ORDER, query.sort) ? (query.sort as SortKey) : 'name';
  const dir: Dir = query.dir === 'asc' || query.dir === 'desc' ? query.dir : ORDER[sort].first;
  return { q: typeof query.q === 'string' ? query.q.trim().slice(0, 100) : '', sort, dir, page: pageParam(query.page) };
}

/** The query string (no leading "?", ending in "&" when not empty) for this list without its page, as pager.ejs wants. */
export function listBase(lq: ListQuery, change: Partial<ListQuery> = {}): string {
  const { q, sort, dir } = { ...lq, ...change };
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  p.set('sort', sort); p.set('dir', dir);
  return p.toString() + '&';
}

/** One column header: its link (first click sorts the column, a second reverses it) and its aria-sort. */
export function columnHeaders(lq: ListQuery): { key: SortKey; label: string; href: string; ariaSort: 'ascending' | 'descending' | 'none' }[] {
  return (Object.keys(ORDER) as SortKey[]).map((key) => {
    const o = ORDER[key];
    const active = lq.sort === key;
    const dir = active ? (lq.dir === 'asc' ? 'desc' : 'asc') : o.first;
    return { key, label: o.label, href: '?' + listBase(lq, { sort: key, dir }).slice(0, -1), ariaSort: active ? (lq.dir === 'asc' ? 'ascending' : 'descending') : 'none' };
  });
}

export type ProfileRow = Omit<ProfileView, 'hasClientSecret'> & { mailboxCount: number; capacity: number | null };

export async function listProfiles(prisma: PrismaClient, lq: ListQuery): Promise<{ rows: ProfileRow[]; total: number; pages: number }> {
  const where: Prisma.EmailServerProfileWhereInput = lq.q ? { name: { contains: lq.q, mode: 'insensitive' } } : {};
  const [found, total] = await Promise.all([
    prisma.emailServerProfile.findMany({
      where, omit: { oauthClientSecret: true }, include: { _count: { select: { mailboxes: true } } },
      orderBy: [ORDER[lq.sort].by(lq.dir), { name: 'asc' }, { id: 'asc' }], skip: (lq.page - 1) * PAGE_SIZE, take: PAGE_SIZE,
    }),
    prisma.emailServerProfile.count({ where }),
  ]);
  const rows = found.map(({ _count, ...p }) => ({ ...p, mailboxCount: _count.mailboxes, capacity: p.authenticateUsing === 'GMAIL_OAUTH' ? GMAIL_PROFILE_CAPACITY : null }));
  return { rows, total, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)) };
}
