// The Emails list: every email a user may see (admin: all; user: their mailboxes'), newest first, searched by subject
// or sender, filtered by mailbox, direction, status and date, sorted by date, sender or subject. Keyset paging
// (decision 014): the table grows with every message synchronized, and a deep page must cost what page 1 does.
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import { defineList, type QueryOf } from '../web/list.ts';
import { listView } from '../web/list-view.ts';
import { emailRow, type EmailRowData } from './rows.ts';
import { DIRECTION, EMAIL_STATUS } from './labels.ts';

type Order = Prisma.EmailOrderByWithRelationInput;
type SortKey = 'date' | 'from' | 'subject';
const DAY_MS = 86_400_000;

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
  // Counting is what page 1 pays and deep pages do not: a lower cap keeps the two close ("1–50 of 1,000+").
  countCap: 1_000,
  keyset: { occurredAt: 'date', fromAddress: 'string', subject: 'string', id: 'string' },
});
export type EmailListQuery = QueryOf<typeof emailList>;

/** Only what a row shows (and what its cursor needs): never the bodies. */
const rowSelect = {
  id: true,
  direction: true,
  status: true,
  fromAddress: true,
  fromName: true,
  to: true,
  subject: true,
  occurredAt: true,
  mailbox: { select: { id: true, name: true } },
} as const satisfies Prisma.EmailSelect;

/** Search text for `contains`: LIKE's wildcards and its escape character taken literally. */
export const likeText = (q: string) => q.replace(/[\\%_]/g, '\\$&');

/**
 * What a user may see, as a filter the indexes serve: an admin everything, a user the ids of their mailboxes. The
 * relation filter (visibleEmailsWhere) is a join on Mailbox that PostgreSQL answered by walking every email by date
 * and probing its mailbox: 183 ms for a user's first page among 100,000 emails, 3 ms with the ids (decision 026).
 */
export async function visibleListWhere(
  prisma: PrismaClient,
  user: Pick<PublicUser, 'id' | 'role'>,
): Promise<Prisma.EmailWhereInput> {
  if (user.role === 'ADMIN') return {};
  const mine = await prisma.mailbox.findMany({ where: { ownerId: user.id }, select: { id: true } });
  return { mailboxId: { in: mine.map((m) => m.id) } };
}

/** The where clause of a list query: what the user may see (visibleListWhere), narrowed by its search and filters. */
export function emailsWhere(visible: Prisma.EmailWhereInput, l: EmailListQuery): Prisma.EmailWhereInput {
  const and: Prisma.EmailWhereInput[] = [visible];
  if (l.mailbox) and.push({ mailboxId: l.mailbox });
  if (l.direction) and.push({ direction: l.direction });
  if (l.status) and.push({ status: l.status });
  // Dates are whole UTC days, both ends included.
  if (l.since) and.push({ occurredAt: { gte: new Date(`${l.since}T00:00:00Z`) } });
  if (l.until) and.push({ occurredAt: { lt: new Date(new Date(`${l.until}T00:00:00Z`).getTime() + DAY_MS) } });
  if (l.q) {
    // ILIKE '%…%' on columns with trigram indexes (pg_trgm). Prisma passes the text to LIKE as it is, so % and _ are
    // escaped here to mean themselves (backslash is PostgreSQL's default LIKE escape).
    const text = likeText(l.q);
    and.push({
      OR: [
        { subject: { contains: text, mode: 'insensitive' } },
        { fromAddress: { contains: text, mode: 'insensitive' } },
        { fromName: { contains: text, mode: 'insensitive' } },
      ],
    });
  }
  return { AND: and };
}

export async function listEmails(prisma: PrismaClient, user: Pick<PublicUser, 'id' | 'role'>, l: EmailListQuery) {
  const where = emailsWhere(await visibleListWhere(prisma, user), l);
  return emailList.readKeyset<EmailRowData>(l, {
    rows: ({ past, take, orderBy }) =>
      prisma.email.findMany({
        where: past ? { AND: [where, past as Prisma.EmailWhereInput] } : where,
        take,
        orderBy,
        select: rowSelect,
      }),
    count: (upTo) => prisma.email.count({ where, take: upTo }),
  });
}

/** The list page: rows as the view shows them, the filter form, and the mailbox a filter names (if visible). */
export async function emailListPage(prisma: PrismaClient, user: Pick<PublicUser, 'id' | 'role'>, l: EmailListQuery) {
  const admin = user.role === 'ADMIN';
  const [page, own, filtered] = await Promise.all([
    listEmails(prisma, user, l),
    // A user picks among their own mailboxes; an admin filters from a row or a mailbox record (there may be thousands).
    admin
      ? []
      : prisma.mailbox.findMany({
          where: { ownerId: user.id },
          orderBy: { name: 'asc' },
          take: 200,
          select: { id: true, name: true },
        }),
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
      mailbox: admin ? null : { value: l.mailbox ?? '', options: own },
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
