// The Emails list: every email a user may see (admin: all; user: their mailboxes'), newest first, searched by subject
// or sender, filtered by mailbox, direction, status and date, sorted by date, sender or subject. Keyset paging
// (decision 014): the table grows with every message synchronized, and a deep page must cost what page 1 does. A page
// is one SQL statement (decision 032), the same rows as the Prisma `where` and `orderBy` below (a test compares them).
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import type { RawSql } from '../db/client.ts';
import { defineList, type QueryOf } from '../web/list.ts';
import { listView } from '../web/list-view.ts';
import {
  cappedCount,
  containsPattern,
  epochMs,
  containsText,
  jsonRowsSql,
  orderSql,
  pastSql,
  searchSql,
  type SqlParams,
  sqlParams,
} from '../web/list-sql.ts';
import { emailRow, type EmailRowData } from './rows.ts';
import { DIRECTION, EMAIL_STATUS } from './labels.ts';

type Order = Prisma.EmailOrderByWithRelationInput;
type SortKey = 'date' | 'from' | 'subject';
const DAY_MS = 86_400_000;
/** Counting is what page 1 pays and deep pages do not: a lower cap keeps the two close ("1–50 of 1,000+"). */
const COUNT_CAP = 1_000;
/**
 * A text search's count tests subject, sender address and sender name of every email it reads until the cap: for a
 * word in one email of five, 5,000 emails for 1,000 — most of the search page's cost on PGlite (decision 045). It
 * stops at 250 ("1–50 of 250+"); the list without a search still counts to 1,000 from an index.
 */
const SEARCH_COUNT_CAP = 250;

export const emailList = defineList<
  Order,
  SortKey,
  {
    mailbox: z.ZodUUID;
    direction: z.ZodEnum<{ INCOMING: 'INCOMING'; OUTGOING: 'OUTGOING' }>;
    status: z.ZodEnum<{ [K in keyof typeof EMAIL_STATUS]: K }>;
    since: z.ZodISODate;
    until: z.ZodISODate;
  }
>({
  sorts: {
    // Served by the (occurredAt DESC) and (mailboxId, occurredAt DESC) indexes.
    date: { label: 'Date', first: 'desc', orderBy: (d) => [{ occurredAt: d }] },
    from: { label: 'From', orderBy: (d) => [{ fromAddress: d }] },
    subject: { label: 'Subject', orderBy: (d) => [{ subject: d }] },
  },
  defaultSort: 'date',
  tiebreak: [{ id: 'desc' }],
  filters: {
    mailbox: z.uuid(),
    direction: z.enum(['INCOMING', 'OUTGOING']),
    status: z.enum(Object.keys(EMAIL_STATUS) as [keyof typeof EMAIL_STATUS, ...(keyof typeof EMAIL_STATUS)[]]),
    since: z.iso.date(),
    until: z.iso.date(),
  },
  searchMax: 200,
  countCap: COUNT_CAP,
  searchCountCap: SEARCH_COUNT_CAP,
  keyset: { occurredAt: 'date', fromAddress: 'string', subject: 'string', id: 'string' },
});
export type EmailListQuery = QueryOf<typeof emailList>;

/** The filters' day boundaries: dates are whole UTC days, both ends included. */
const sinceOf = (day: string) => new Date(`${day}T00:00:00Z`);
const untilOf = (day: string) => new Date(sinceOf(day).getTime() + DAY_MS);

/**
 * The list's filters in Prisma's terms, narrowing what the user may see (`visible`: visibleEmailsWhere). The page is
 * read by the SQL below (emailsWhereSql); test/db/email-list-sql.test.ts requires the two to select the same rows.
 */
export function emailsWhere(visible: Prisma.EmailWhereInput, l: EmailListQuery): Prisma.EmailWhereInput {
  const and: Prisma.EmailWhereInput[] = [visible];
  if (l.mailbox) and.push({ mailboxId: l.mailbox });
  if (l.direction) and.push({ direction: l.direction });
  if (l.status) and.push({ status: l.status });
  if (l.since) and.push({ occurredAt: { gte: sinceOf(l.since) } });
  if (l.until) and.push({ occurredAt: { lt: untilOf(l.until) } });
  if (l.q) {
    const text = containsText(l.q);
    and.push({ OR: [{ subject: text }, { fromAddress: text }, { fromName: text }] });
  }
  return { AND: and };
}

/** An Email column in the list's SQL. */
const column = (name: string) => `e."${name}"`;

/**
 * emailsWhere as SQL over "Email" e. What a user may see is their mailbox ids (`visible`; null for an admin), not a
 * join on Mailbox: PostgreSQL answered the join by walking every email by date and probing its mailbox (183 ms for a
 * user's first page among 100,000 emails, 3 ms with the ids; decision 026).
 */
function emailsWhereSql(visible: string[] | null, l: EmailListQuery, p: SqlParams): string {
  const conds: string[] = [];
  if (visible) conds.push(`e."mailboxId" = ANY(${p.param(visible)}::text[])`);
  if (l.mailbox) conds.push(`e."mailboxId" = ${p.param(l.mailbox)}`);
  if (l.direction) conds.push(`e.direction = ${p.param(l.direction)}::"EmailDirection"`);
  if (l.status) conds.push(`e.status = ${p.param(l.status)}::"EmailStatus"`);
  if (l.since) conds.push(`e."occurredAt" >= ${p.param(sinceOf(l.since).toISOString())}::timestamptz`);
  if (l.until) conds.push(`e."occurredAt" < ${p.param(untilOf(l.until).toISOString())}::timestamptz`);
  if (l.q) {
    conds.push(searchSql(['subjectLower', 'fromAddressLower', 'fromNameLower'], column, p.param(containsPattern(l.q))));
  }
  return conds.length ? `WHERE ${conds.join(' AND ')}` : '';
}

interface FlatRow {
  id: string;
  direction: string;
  status: string;
  fromAddress: string;
  fromName: string;
  to: unknown;
  subject: string;
  occurredAt: number;
  mailboxId: string;
  mailboxName: string;
}

const rowOf = (r: FlatRow): EmailRowData => ({
  id: r.id,
  direction: r.direction as EmailRowData['direction'],
  status: r.status as EmailRowData['status'],
  fromAddress: r.fromAddress,
  fromName: r.fromName,
  to: r.to,
  subject: r.subject,
  occurredAt: new Date(r.occurredAt),
  mailbox: { id: r.mailboxId, name: r.mailboxName },
});

// Only what a row shows (and what its cursor needs): never the bodies. Keyset columns are declared in emailList.
const WINDOW_COLUMNS = `e.id, e.direction, e.status, e."fromAddress", e."fromName", e."to", e.subject, e."occurredAt",
  e."mailboxId"`;
const ROW_COLUMNS = {
  id: 'e.id',
  direction: 'e.direction::text',
  status: 'e.status::text',
  fromAddress: 'e."fromAddress"',
  fromName: 'e."fromName"',
  to: 'e."to"',
  subject: 'e.subject',
  occurredAt: epochMs('e."occurredAt"'),
  mailboxId: 'e."mailboxId"',
  mailboxName: 'mb.name',
} satisfies Record<keyof FlatRow, string>;

/** A user's mailboxes by name: the emails they may see (all of them), and the choices of the list's mailbox filter. */
export const ownMailboxes = (sql: RawSql, userId: string) =>
  sql.query<{ id: string; name: string }>(`SELECT id, name FROM "Mailbox" WHERE "ownerId" = $1 ORDER BY name, id`, [
    userId,
  ]);

/**
 * One page of the list in one statement (decision 032): the page's window of emails past the cursor, its mailboxes
 * joined, and, while the pager could use it, the capped count as a column. Prisma read the rows, then their mailboxes,
 * then the count. A user's page first reads their mailbox ids (`own`, when the caller has them already).
 */
export async function listEmails(
  sql: RawSql,
  user: Pick<PublicUser, 'id' | 'role'>,
  l: EmailListQuery,
  own?: { id: string }[],
) {
  const visible = user.role === 'ADMIN' ? null : (own ?? (await ownMailboxes(sql, user.id))).map((m) => m.id);
  const filter = sqlParams();
  const where = emailsWhereSql(visible, l, filter);
  const cap = emailList.countCap(l);
  const counts = cappedCount(sql, `"Email" e`, where, filter.values, cap);
  // The pager counts only while the page ends before the cap (web/list.ts finish): ask then, in the same statement.
  // A page reached by a cursor is page 2 at least.
  const page = l.after || l.before ? Math.max(2, l.page) : l.page;
  const countCol = page * emailList.pageSize < cap ? counts.column : '';
  return emailList.readKeyset<EmailRowData>(l, {
    rows: async ({ take, order, cursor }) => {
      const p = sqlParams([...filter.values]);
      const past = cursor ? `${where ? `${where} AND` : 'WHERE'} ${pastSql(order, cursor, column, p)}` : where;
      const by = orderSql(order, column);
      // The window is chosen from Email alone and only its rows are joined to their mailbox.
      const [page] = await sql.query<{ rows: FlatRow[]; capped?: number | string }>(
        `SELECT ${jsonRowsSql(ROW_COLUMNS, by)}${countCol}
         FROM (SELECT ${WINDOW_COLUMNS} FROM "Email" e ${past} ORDER BY ${by} LIMIT ${p.param(take)}) e
         JOIN "Mailbox" mb ON mb.id = e."mailboxId"`,
        p.values,
      );
      counts.seen(page);
      return page.rows.map(rowOf);
    },
    count: counts.count,
  });
}

/** The list page: rows as the view shows them, the filter form, and the mailbox a filter names (if visible). */
export async function emailListPage(
  { prisma, raw }: { prisma: PrismaClient; raw: RawSql },
  user: Pick<PublicUser, 'id' | 'role'>,
  l: EmailListQuery,
) {
  const admin = user.role === 'ADMIN';
  // A user picks among their own mailboxes (the first 200 by name), which are also what they may see; an admin
  // filters from a row or a mailbox record (there may be thousands).
  const own = admin ? [] : await ownMailboxes(raw, user.id);
  const [page, filtered] = await Promise.all([
    listEmails(raw, user, l, admin ? undefined : own),
    l.mailbox && admin
      ? prisma.mailbox.findUnique({ where: { id: l.mailbox }, select: { id: true, name: true } })
      : null,
  ]);
  const view = listView(emailList, page, [
    'date',
    { label: 'Mailbox' },
    { label: 'Direction' },
    'from',
    { label: 'To' },
    'subject',
    { label: 'Status' },
  ]);
  const mailbox = admin ? filtered : (own.find((m) => m.id === l.mailbox) ?? null);
  return {
    title: 'Emails',
    ...view,
    rows: page.rows.map((r) => emailRow(r, (change) => emailList.href(l, change))),
    filtered: Boolean(l.q || l.mailbox || l.direction || l.status || l.since || l.until),
    mailboxFilter: l.mailbox ? { name: mailbox?.name ?? null, clear: view.href({ mailbox: null }) } : null,
    form: {
      q: l.q,
      mailbox: admin ? null : { value: l.mailbox ?? '', options: own.slice(0, 200) },
      direction: { value: l.direction ?? '', options: DIRECTION },
      status: { value: l.status ?? '', options: EMAIL_STATUS },
      since: l.since ?? '',
      until: l.until ?? '',
      // The admin's mailbox filter and the sort travel with the form.
      hidden: emailList
        .params(l)
        .filter(([name]) => name === 'sort' || name === 'dir' || (admin && name === 'mailbox')),
      clear: '/emails',
    },
    /** Buttons above the list. */
    actions: [
      { label: 'New email', href: l.mailbox ? `/emails/new?mailbox=${l.mailbox}` : '/emails/new', primary: true },
    ] as { label: string; href: string; primary?: boolean }[],
  };
}
