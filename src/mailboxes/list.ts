// The mailbox list: search by name or address, filter by profile, sort by any column, 50 per page. Admins see
// every mailbox, a mailbox user their own.
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import type { RawSql } from '../db/client.ts';
import { COUNT_CAP, defineList, type QueryOf } from '../web/list.ts';
import { listView, searchForm } from '../web/list-view.ts';
import {
  cappedCount,
  containsPattern,
  dateOf,
  epochMs as ms,
  containsText,
  jsonRowsSql,
  searchSql,
  sqlParams,
} from '../web/list-sql.ts';
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
export const rowSelect = {
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
          OR: [{ name: containsText(l.q) }, { emailAddress: containsText(l.q) }],
        }
      : {}),
  };
}

/**
 * The list's order as SQL, the same as the sorts' Prisma `orderBy` above (a test compares the two): relation sorts
 * order by the joined column, PostgreSQL's default null placement as Prisma leaves it, and the id tiebreak.
 */
const SORT_SQL: Record<SortKey, (d: 'ASC' | 'DESC') => string> = {
  name: (d) => `m.name ${d}`,
  email: (d) => `m."emailAddress" ${d}`,
  profile: (d) => `p.name ${d}`,
  incoming: (d) => `m."incomingStatus" ${d}, m.name ${d}`,
  outgoing: (d) => `m."outgoingStatus" ${d}`,
  approval: (d) => `m."emailApproval" ${d}`,
  enabled: (d) => `m."enabledForIncoming" ${d}, m."enabledForOutgoing" ${d}`,
  gmail: (d) => `g."googleEmail" ${d}`,
  lastTest: (d) => `m."lastTestCompletedAt" ${d} NULLS LAST`,
};

/** mailboxListWhere as SQL over "Mailbox" m, with its parameters ($1…). */
function listWhereSql(user: Pick<PublicUser, 'id' | 'role'>, l: Pick<MailboxListQuery, 'q' | 'profile'>) {
  const { values: params, param } = sqlParams();
  const conds: string[] = [];
  if (user.role !== 'ADMIN') conds.push(`m."ownerId" = ${param(user.id)}`);
  if (l.profile) conds.push(`m."profileId" = ${param(l.profile)}`);
  if (l.q) {
    conds.push(searchSql(['nameLower', 'emailAddressLower'], (c) => `m."${c}"`, param(containsPattern(l.q))));
  }
  return { sql: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

// Epoch milliseconds and enums as text: plain numbers and strings in JSON (jsonRowsSql).
const ROW_COLUMNS = {
  id: 'm.id',
  name: 'm.name',
  emailAddress: 'm."emailAddress"',
  incomingStatus: 'm."incomingStatus"::text',
  outgoingStatus: 'm."outgoingStatus"::text',
  emailApproval: 'm."emailApproval"::text',
  enabledForIncoming: 'm."enabledForIncoming"',
  enabledForOutgoing: 'm."enabledForOutgoing"',
  lastTestCompletedAt: ms('m."lastTestCompletedAt"'),
  retryCount: 'm."retryCount"',
  nextRetryAt: ms('m."nextRetryAt"'),
  profileId: 'p.id',
  profileName: 'p.name',
  googleAppInTesting: 'p."googleAppInTesting"',
  syncState: 's.state::text',
  stoppedReason: 's."stoppedReason"',
  grantOf: 'g."mailboxId"',
  googleEmail: 'g."googleEmail"',
  needsReconsent: 'g."needsReconsent"',
  signInRequiredAt: ms('g."signInRequiredAt"'),
  refreshTokenIssuedAt: ms('g."refreshTokenIssuedAt"'),
} satisfies Record<keyof FlatRow, string>;
const PROFILE_JOIN = `LEFT JOIN "EmailServerProfile" p ON p.id = m."profileId"`;
const GRANT_JOIN = `LEFT JOIN "GmailGrant" g ON g."mailboxId" = m.id`;
/**
 * The page's rows read their sync row and grant by key, one index look-up each (OFFSET 0 keeps the planner from
 * turning the subquery back into a join): joined, both engines hashed the whole MailboxSync and GmailGrant tables
 * for 51 rows — on PGlite, whose database work is the server's CPU, a fifth of the page's statement (decision 036).
 */
const ROW_JOINS = `${PROFILE_JOIN}
  LEFT JOIN LATERAL (SELECT * FROM "MailboxSync" s WHERE s."mailboxId" = m.id OFFSET 0) s ON true
  LEFT JOIN LATERAL (SELECT * FROM "GmailGrant" g WHERE g."mailboxId" = m.id OFFSET 0) g ON true`;
/** The sorts that order by a related table's column: the page's window needs that table joined. */
const SORT_JOIN: Partial<Record<SortKey, string>> = { profile: PROFILE_JOIN, gmail: GRANT_JOIN };

interface FlatRow {
  id: string;
  name: string;
  emailAddress: string;
  incomingStatus: string;
  outgoingStatus: string;
  emailApproval: string;
  enabledForIncoming: boolean;
  enabledForOutgoing: boolean;
  lastTestCompletedAt: number | null;
  retryCount: number;
  nextRetryAt: number | null;
  profileId: string | null;
  profileName: string | null;
  googleAppInTesting: boolean | null;
  syncState: string | null;
  stoppedReason: string | null;
  grantOf: string | null;
  googleEmail: string | null;
  needsReconsent: boolean | null;
  signInRequiredAt: number | null;
  refreshTokenIssuedAt: number | null;
}

/** A joined row in the shape rowSelect gives (what the view and the badges read). */
function rowOf(r: FlatRow): Row {
  return {
    id: r.id,
    name: r.name,
    emailAddress: r.emailAddress,
    incomingStatus: r.incomingStatus as Row['incomingStatus'],
    outgoingStatus: r.outgoingStatus as Row['outgoingStatus'],
    emailApproval: r.emailApproval as Row['emailApproval'],
    enabledForIncoming: r.enabledForIncoming,
    enabledForOutgoing: r.enabledForOutgoing,
    lastTestCompletedAt: dateOf(r.lastTestCompletedAt),
    retryCount: r.retryCount,
    nextRetryAt: dateOf(r.nextRetryAt),
    profile:
      r.profileId === null
        ? null
        : { id: r.profileId, name: r.profileName ?? '', googleAppInTesting: !!r.googleAppInTesting },
    sync: r.syncState === null ? null : { state: r.syncState as never, stoppedReason: r.stoppedReason },
    grant:
      r.grantOf === null
        ? null
        : {
            googleEmail: r.googleEmail ?? '',
            needsReconsent: !!r.needsReconsent,
            signInRequiredAt: dateOf(r.signInRequiredAt),
            refreshTokenIssuedAt: dateOf(r.refreshTokenIssuedAt),
          },
  };
}

/**
 * One page of the list in one statement: the rows with their profile, sync state and grant joined, and, when the
 * pager could use it, the capped count as a column (decision 028). Prisma read the same page in four statements plus
 * the count (its relation loading), each a round trip and a pass through its interpreter.
 */
export async function listMailboxes(sql: RawSql, user: Pick<PublicUser, 'id' | 'role'>, l: MailboxListQuery) {
  const cap = COUNT_CAP;
  const where = listWhereSql(user, l);
  // The same filter and parameters as the rows ($1…).
  const counts = cappedCount(sql, `"Mailbox" m`, where.sql, where.params, cap);
  return mailboxList.read(l, {
    rows: async ({ skip, take }) => {
      const d = l.dir === 'asc' ? 'ASC' : 'DESC';
      const params = [...where.params, take, skip];
      const n = where.params.length;
      // The pager counts only while the page ends before the cap (web/list.ts finish): ask then, in the same statement.
      const withCount = skip + mailboxList.pageSize < cap;
      const countCol = withCount ? counts.column : '';
      const order = `${SORT_SQL[l.sort](d)}, m.id ASC`;
      // The window is chosen from Mailbox alone (plus the one table a relation sort orders by), and only its rows are
      // joined: joined first, a deep page joined every row it skipped (page 150 on PGlite cost twice Prisma's).
      const window = `FROM "Mailbox" m ${SORT_JOIN[l.sort] ?? ''} ${where.sql}
               ORDER BY ${order} LIMIT $${n + 1} OFFSET $${n + 2}`;
      // Past page 1 the window skips rows: it picks ids only, which an index on the order and id (the default sort's
      // (name, id)) gives without reading the skipped rows themselves, then reads the page's rows by id (decision 045).
      const rowsFrom =
        skip > 0
          ? `(SELECT m.* FROM (SELECT m.id ${window}) w JOIN "Mailbox" m ON m.id = w.id) m`
          : `(SELECT m.* ${window}) m`;
      const [page] = await sql.query<{ rows: FlatRow[]; capped?: number | string }>(
        `SELECT ${jsonRowsSql(ROW_COLUMNS, order)}${countCol}
         FROM ${rowsFrom}
         ${ROW_JOINS}`,
        params,
      );
      counts.seen(page);
      return page.rows.map(rowOf);
    },
    count: counts.count,
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
  { prisma, raw }: { prisma: PrismaClient; raw: RawSql },
  user: Pick<PublicUser, 'id' | 'role'>,
  l: MailboxListQuery,
) {
  const [page, owned, profile] = await Promise.all([
    listMailboxes(raw, user, l),
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
