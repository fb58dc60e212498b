// Which mailboxes a bulk action is about: the rows ticked on the list (ids), or "all N matching" the list's current
// search and profile filter (all=1, q, profile). Only mailboxes the user may see, at most MAX_BULK per action.
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import { mailboxList, mailboxListWhere } from '../mailboxes/list.ts';

/** One action's work is done in the request: beyond this the admin narrows the filter (decision 019). */
export const MAX_BULK = 1_000;
/** The confirmation page names at most so many mailboxes (and says how many more). */
export const MAX_NAMED = 200;

export type Selection = { all: false; ids: string[] } | { all: true; q: string; profile: string | null };
type User = Pick<PublicUser, 'id' | 'role'>;

const ids = z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.uuid()).max(MAX_BULK));

/** The selection a form sends; null when nothing (or something malformed) was selected. */
export function parseSelection(body: Record<string, unknown>): Selection | null {
  if (body.all === '1') {
    const l = mailboxList.parse(body);
    return { all: true, q: l.q, profile: l.profile };
  }
  const parsed = ids.safeParse(body.ids);
  if (!parsed.success || !parsed.data.length) return null;
  return { all: false, ids: [...new Set(parsed.data)] };
}

export function selectionWhere(user: User, s: Selection): Prisma.MailboxWhereInput {
  return s.all
    ? mailboxListWhere(user, s)
    : { AND: [mailboxListWhere(user, { q: '', profile: null }), { id: { in: s.ids } }] };
}

/** The hidden fields that carry a selection from the list to the confirmation and on to the action. */
export function selectionFields(s: Selection): [string, string][] {
  if (!s.all) return s.ids.map((id) => ['ids', id]);
  return [
    ['all', '1'],
    ...(s.q ? [['q', s.q] as [string, string]] : []),
    ...(s.profile ? [['profile', s.profile] as [string, string]] : []),
  ];
}

/** In words, for the confirmation and the audit log. */
export function selectionLabel(s: Selection): string {
  if (!s.all) return 'selected on the list';
  const parts = [s.q ? `matching “${s.q}”` : '', s.profile ? 'of one email server profile' : ''].filter(Boolean);
  return parts.length ? `all ${parts.join(' ')}` : 'all mailboxes';
}

const named = { id: true, name: true, emailAddress: true, profile: { select: { name: true } } } as const;
export type Named = Prisma.MailboxGetPayload<{ select: typeof named }>;

/** How many mailboxes the selection holds now, and the first MAX_NAMED of them by name. */
export async function previewSelection(prisma: PrismaClient, user: User, s: Selection) {
  const where = selectionWhere(user, s);
  const [count, mailboxes] = await Promise.all([
    prisma.mailbox.count({ where }),
    prisma.mailbox.findMany({ where, select: named, orderBy: [{ name: 'asc' }, { id: 'asc' }], take: MAX_NAMED }),
  ]);
  return { count, mailboxes };
}

/** The ids the action works on, in name order (at most MAX_BULK + 1, so a caller can tell "too many"). */
export async function selectedIds(prisma: PrismaClient, user: User, s: Selection): Promise<string[]> {
  const rows = await prisma.mailbox.findMany({
    where: selectionWhere(user, s),
    select: { id: true },
    orderBy: [{ name: 'asc' }, { id: 'asc' }],
    take: MAX_BULK + 1,
  });
  return rows.map((r) => r.id);
}
