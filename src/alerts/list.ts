// The Alerts page: every alert a user may see across mailboxes and profiles, newest first, filtered by level, profile,
// mailbox and date. Keyset paging like the Emails list: alerts only accumulate.
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import { defineList, type QueryOf } from '../web/list.ts';
import { listView } from '../web/list-view.ts';
import { visibleAlertsWhere } from './access.ts';
import { LEVEL } from './labels.ts';
import { alertRow, alertRowSelect } from './rows.ts';

type Viewer = Pick<PublicUser, 'id' | 'role'>;
const DAY_MS = 86_400_000;

export const alertList = defineList<
  Prisma.AlertOrderByWithRelationInput,
  'time',
  {
    level: z.ZodEnum<{ ERROR: 'ERROR'; WARNING: 'WARNING'; INFO: 'INFO' }>;
    profile: z.ZodUUID;
    mailbox: z.ZodUUID;
    since: z.ZodISODate;
    until: z.ZodISODate;
  }
>({
  // Served by the (createdAt DESC) and (level, createdAt DESC) indexes, and per mailbox or profile by theirs.
  sorts: { time: { label: 'Time (UTC)', first: 'desc', orderBy: (d) => [{ createdAt: d }] } },
  defaultSort: 'time',
  tiebreak: [{ id: 'desc' }],
  filters: {
    level: z.enum(['ERROR', 'WARNING', 'INFO']),
    profile: z.uuid(),
    mailbox: z.uuid(),
    since: z.iso.date(),
    until: z.iso.date(),
  },
  countCap: 1_000,
  keyset: { createdAt: 'date', id: 'string' },
});
export type AlertListQuery = QueryOf<typeof alertList>;

export function alertsWhere(user: Viewer, l: AlertListQuery): Prisma.AlertWhereInput {
  const and: Prisma.AlertWhereInput[] = [visibleAlertsWhere(user)];
  if (l.level) and.push({ level: l.level });
  // A profile's alerts and those of its mailboxes.
  if (l.profile) and.push({ OR: [{ profileId: l.profile }, { mailbox: { profileId: l.profile } }] });
  if (l.mailbox) and.push({ mailboxId: l.mailbox });
  if (l.since) and.push({ createdAt: { gte: new Date(`${l.since}T00:00:00Z`) } });
  if (l.until) and.push({ createdAt: { lt: new Date(new Date(`${l.until}T00:00:00Z`).getTime() + DAY_MS) } });
  return { AND: and };
}

export function listAlerts(prisma: PrismaClient, user: Viewer, l: AlertListQuery) {
  const where = alertsWhere(user, l);
  return alertList.readKeyset(l, {
    rows: ({ past, take, orderBy }) =>
      prisma.alert.findMany({
        where: past ? { AND: [where, past as Prisma.AlertWhereInput] } : where,
        take,
        orderBy,
        select: alertRowSelect,
      }),
    count: (upTo) => prisma.alert.count({ where, take: upTo }),
  });
}

export async function alertListPage(prisma: PrismaClient, user: Viewer, l: AlertListQuery) {
  const admin = user.role === 'ADMIN';
  const [page, profiles, mailboxes] = await Promise.all([
    listAlerts(prisma, user, l),
    admin
      ? prisma.emailServerProfile.findMany({ orderBy: { name: 'asc' }, take: 200, select: { id: true, name: true } })
      : [],
    // A user picks among their own mailboxes; an admin filters by mailbox from a row or the mailbox's record.
    admin
      ? l.mailbox
        ? prisma.mailbox.findMany({ where: { id: l.mailbox }, select: { id: true, name: true } })
        : []
      : prisma.mailbox.findMany({
          where: { ownerId: user.id },
          orderBy: { name: 'asc' },
          take: 200,
          select: { id: true, name: true },
        }),
  ]);
  const view = listView(alertList, page, [
    'time',
    { label: 'Level' },
    { label: 'Profile' },
    { label: 'Mailbox' },
    { label: 'Code' },
    { label: 'Message' },
  ]);
  return {
    title: 'Alerts',
    ...view,
    rows: page.rows.map((a) => alertRow(a, { linkProfiles: admin })),
    filtered: Boolean(l.level || l.profile || l.mailbox || l.since || l.until),
    form: {
      level: { value: l.level ?? '', options: LEVEL },
      profile: admin ? { value: l.profile ?? '', options: profiles } : null,
      mailbox: { value: l.mailbox ?? '', options: mailboxes, all: admin ? 'All mailboxes' : 'All my mailboxes' },
      since: l.since ?? '',
      until: l.until ?? '',
      clear: '/alerts',
    },
  };
}
