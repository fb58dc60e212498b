// The mailbox list: search by name or address, filter by profile, sort by any column, 50 per page. Admins see
// every mailbox, a mailbox user their own.
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import { defineList, type QueryOf } from '../web/list.ts';
import { listView, searchForm } from '../web/list-view.ts';
import { visibleMailboxesWhere } from './access.ts';
import { labels } from './labels.ts';
import { syncBadge } from '../emails/sync-state.ts';
import { isPending, statusVersion } from './status.ts';
import { testingExpiry, testingLabel } from './grant-health.ts';

type Order = Prisma.MailboxOrderByWithRelationInput;
type SortKey = 'name' | 'email' | 'profile' | 'incoming' | 'outgoing' | 'approval' | 'enabled' | 'gmail' | 'lastTest';

export const mailboxList = defineList<Order, SortKey, { profile: z.ZodUUID }>({
  sorts: {
    name: { label: 'Name', orderBy: (d) => [{ name: d }] },
    email: { label: 'Email Address', orderBy: (d) => [{ emailAddress: d }] },
    profile: { label: 'Server Profile', orderBy: (d) => [{ profile: { name: d } }] },
    // name too: served by the (incomingStatus, name) index, no sort of every row
    incoming: { label: 'Incoming Email Status', orderBy: (d) => [{ incomingStatus: d }, { name: d }] },
    outgoing: { label: 'Outgoing Email Status', orderBy: (d) => [{ outgoingStatus: d }] },
    approval: { label: 'Email Address Approval', orderBy: (d) => [{ emailApproval: d }] },
    enabled: { label: 'Enabled', orderBy: (d) => [{ enabledForIncoming: d }, { enabledForOutgoing: d }] },
    gmail: { label: 'Gmail account', orderBy: (d) => [{ grant: { googleEmail: d } }] },
    lastTest: { label: 'Last Test', orderBy: (d) => [{ lastTestCompletedAt: { sort: d, nulls: 'last' } }] },
  },
  defaultSort: 'name',
  tiebreak: [{ id: 'asc' }],
  filters: { profile: z.uuid() },
  searchMax: 200,
});
export type MailboxListQuery = QueryOf<typeof mailboxList>;

/** Only what a row shows: the list is the busiest page, so no sealed columns and nothing unused is read. */
const rowSelect = {
  id: true,
  name: true,
  emailAddress: true,
  incomingStatus: true,
  outgoingStatus: true,
  emailApproval: true,
  enabledForIncoming: true,
  enabledForOutgoing: true,
  lastTestCompletedAt: true,
  retryCount: true,
  nextRetryAt: true,
  profile: { select: { id: true, name: true, googleAppInTesting: true } },
  sync: { select: { state: true, stoppedReason: true } },
  grant: { select: { googleEmail: true, needsReconsent: true, signInRequiredAt: true, refreshTokenIssuedAt: true } },
} as const satisfies Prisma.MailboxSelect;

/** The mailboxes a list query matches for a user: the list's rows, and a bulk action's "all matching" (bulk.ts). */
export function mailboxListWhere(
  user: Pick<PublicUser, 'id' | 'role'>,
  l: Pick<MailboxListQuery, 'q' | 'profile'>,
): Prisma.MailboxWhereInput {
  return {
    ...visibleMailboxesWhere(user),
    ...(l.profile ? { profileId: l.profile } : {}),
    ...(l.q
      ? {
          OR: [
            { name: { contains: l.q, mode: 'insensitive' } },
            { emailAddress: { contains: l.q, mode: 'insensitive' } },
          ],
        }
      : {}),
  };
}

export async function listMailboxes(prisma: PrismaClient, user: Pick<PublicUser, 'id' | 'role'>, l: MailboxListQuery) {
  const where = mailboxListWhere(user, l);
  return mailboxList.read(l, {
    rows: (w) => prisma.mailbox.findMany({ where, ...w, select: rowSelect }),
    count: (upTo) => prisma.mailbox.count({ where, take: upTo }),
  });
}

type Row = Prisma.MailboxGetPayload<{ select: typeof rowSelect }>;

/** The Gmail column's badge: Google refused the sign-in, or no refresh token, or a Testing app's days left. */
export function gmailBadge(m: Pick<Row, 'grant' | 'profile'>, now = new Date()): { text: string; tone: string } | null {
  const g = m.grant;
  if (!g) return null;
  if (g.signInRequiredAt || g.needsReconsent) return { text: 'Sign in again', tone: 'failure' };
  const t = testingExpiry(!!m.profile?.googleAppInTesting, { ...g, hasRefreshToken: !g.needsReconsent }, now);
  return t ? { text: testingLabel(t), tone: t.lastDay ? 'failure' : 'pending' } : null;
}

/** The list page: the rows, the profile a filter names, and how to offer Connect Gmail. */
export async function mailboxListPage(
  prisma: PrismaClient,
  user: Pick<PublicUser, 'id' | 'role'>,
  l: MailboxListQuery,
) {
  const [page, owned, profile] = await Promise.all([
    listMailboxes(prisma, user, l),
    // Only a user's own mailboxes decide how Connect Gmail is offered: an admin's page does not ask.
    user.role === 'ADMIN' ? null : prisma.mailbox.findFirst({ where: { ownerId: user.id }, select: { id: true } }),
    l.profile
      ? prisma.emailServerProfile.findUnique({ where: { id: l.profile }, select: { id: true, name: true } })
      : null,
  ]);
  return {
    title: 'Mailboxes',
    labels,
    syncBadge,
    live: { isPending, statusVersion },
    gmailBadge,
    profile,
    // Connect Gmail for everyone: a user's first mailbox gets the big notice, another mailbox (or an admin's) a link.
    connect: user.role !== 'ADMIN' && !owned ? 'first' : 'another',
    ...listView(mailboxList, page, [
      { label: 'Select', srOnly: true },
      ...(Object.keys(mailboxList.spec.sorts) as SortKey[]),
    ]),
    search: searchForm(mailboxList, page.query, { label: 'Search mailboxes', placeholder: 'Name or email address' }),
    // Bulk actions (src/bulk): the admin's buttons, and the filter "all N matching" carries to the confirmation.
    bulk: {
      admin: user.role === 'ADMIN',
      filter: mailboxList.params(page.query).filter(([name]) => name === 'q' || name === 'profile'),
      several: page.hasNext || page.query.page > 1,
    },
  };
}
