// The mailbox list query: visibility, search, profile filter, column sort and paging (50 a page).
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import { pageParam } from '../web/forms.ts';
import { visibleMailboxesWhere } from './access.ts';

export const PAGE_SIZE = 50;
type Dir = 'asc' | 'desc';

const SORTS: Record<string, (d: Dir) => Prisma.MailboxOrderByWithRelationInput[]> = {
  name: (d) => [{ name: d }],
  email: (d) => [{ emailAddress: d }],
  profile: (d) => [{ profile: { name: d } }],
  incoming: (d) => [{ incomingStatus: d }, { name: d }], // name too: served by the (incomingStatus, name) index, no sort of every row
  outgoing: (d) => [{ outgoingStatus: d }],
  approval: (d) => [{ emailApproval: d }],
  enabled: (d) => [{ enabledForIncoming: d }, { enabledForOutgoing: d }],
  gmail: (d) => [{ grant: { googleEmail: d } }],
  lastTest: (d) => [{ lastTestCompletedAt: { sort: d, nulls: 'last' } }],
};
export const SORT_KEYS = Object.keys(SORTS);

export interface ListQuery { q: string; sort: string; dir: Dir; page: number; profile: string | null }

export function listQuery(query: Record<string, unknown>): ListQuery {
  const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const sort = SORT_KEYS.includes(str(query.sort)) ? str(query.sort) : 'name';
  const profile = z.uuid().safeParse(str(query.profile));
  return { q: str(query.q).slice(0, 200), sort, dir: str(query.dir) === 'desc' ? 'desc' : 'asc', page: pageParam(query.page), profile: profile.success ? profile.data : null };
}

/** The query string for a list link, with some values changed (page resets unless given). */
export function listHref(l: ListQuery, change: Partial<ListQuery> = {}): string {
  const v = { ...l, page: 1, ...change };
  const p = new URLSearchParams();
  if (v.q) p.set('q', v.q);
  if (v.profile) p.set('profile', v.profile);
  if (v.sort !== 'name' || v.dir !== 'asc') { p.set('sort', v.sort); p.set('dir', v.dir); }
  if (v.page > 1) p.set('page', String(v.page));
  const s = p.toString();
  return s ? `?${s}` : '?';
}

export async function listMailboxes(prisma: PrismaClient, user: Pick<PublicUser, 'id' | 'role'>, l: ListQuery) {
  const where: Prisma.MailboxWhereInput = {
    ...visibleMailboxesWhere(user),
    ...(l.profile ? { profileId: l.profile } : {}),
    ...(l.q ? { OR: [{ name: { contains: l.q, mode: 'insensitive' } }, { emailAddress: { contains: l.q, mode: 'insensitive' } }] } : {}),
  };
  const [rows, total] = await Promise.all([
    prisma.mailbox.findMany({
      where, orderBy: [...SORTS[l.sort](l.dir), { id: 'asc' }], skip: (l.page - 1) * PAGE_SIZE, take: PAGE_SIZE, omit: { credentialPassword: true },
      include: { profile: { select: { id: true, name: true } }, grant: { select: { googleEmail: true, needsReconsent: true } } },
    }),
    prisma.mailbox.count({ where }),
  ]);
  return { rows, total, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)) };
}
