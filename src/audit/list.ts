// The audit log list (admin): newest first (or oldest, by the Time column), filtered by the start of the action
// name ("auth." or "profile."), 50 per page; rows read with names, not ids (./view.ts).
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { defineList, type QueryOf } from '../web/list.ts';
import { listView, searchForm } from '../web/list-view.ts';
import { auditRows } from './view.ts';

export const auditList = defineList<Prisma.AuditEventOrderByWithRelationInput, 'at', { action: z.ZodString }>({
  sorts: { at: { label: 'Time (UTC)', first: 'desc', orderBy: (d) => [{ at: d }, { id: d }] } },
  defaultSort: 'at',
  tiebreak: [],
  filters: { action: z.string().max(100) },
});
export type AuditListQuery = QueryOf<typeof auditList>;

export function listAuditEvents(prisma: PrismaClient, l: AuditListQuery) {
  const where: Prisma.AuditEventWhereInput = l.action ? { action: { startsWith: l.action } } : {};
  return auditList.read(l, {
    rows: (w) => prisma.auditEvent.findMany({ where, ...w }),
    count: (upTo) => prisma.auditEvent.count({ where, take: upTo }),
  });
}

export async function auditListPage(prisma: PrismaClient, page: Awaited<ReturnType<typeof listAuditEvents>>) {
  return {
    title: 'Audit Log',
    events: await auditRows(prisma, page.rows),
    ...listView(auditList, page, [
      'at',
      { label: 'Actor' },
      { label: 'Action' },
      { label: 'Target' },
      { label: 'Result' },
      { label: 'Details' },
    ]),
    search: searchForm(auditList, page.query, {
      name: 'action',
      label: 'Action starts with',
      placeholder: 'e.g. auth. or profile.',
      button: 'Filter',
    }),
  };
}
