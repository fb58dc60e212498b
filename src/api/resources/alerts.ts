// /api/v1/alerts: the Alerts page's list (what the token's owner may see, newest first, filtered by level, profile,
// mailbox and UTC dates), 50 a page with the page's own cursors.
import { z } from 'zod';
import type { AppDeps } from '../../deps.ts';
import { op, type Operation } from '../define.ts';
import { dateTime, pageOf } from '../paging.ts';
import { alertList, listAlerts } from '../../alerts/list.ts';

const alertJson = z.object({
  id: z.uuid(),
  level: z.enum(['ERROR', 'WARNING', 'INFO']),
  code: z.string(),
  message: z.string(),
  hint: z.string(),
  createdAt: dateTime,
  profile: z.object({ id: z.uuid(), name: z.string() }).nullable(),
  mailbox: z.object({ id: z.uuid(), name: z.string() }).nullable(),
});

export function alertOperations(deps: AppDeps): Operation[] {
  const { prisma } = deps.db;
  return [
    op({
      method: 'get',
      path: '/alerts',
      operationId: 'listAlerts',
      summary: 'List alerts',
      description: "An administrator's token sees every alert; a user's, those of their own mailboxes. 50 a page.",
      tag: 'Alerts',
      access: 'read',
      query: z.object({
        level: z.enum(['ERROR', 'WARNING', 'INFO'], { error: 'Use ERROR, WARNING or INFO' }).optional(),
        profileId: z.uuid({ error: 'Use a profile id' }).optional(),
        mailboxId: z.uuid({ error: 'Use a mailbox id' }).optional(),
        since: z.iso.date({ error: 'Use a date as YYYY-MM-DD' }).optional().meta({ description: 'From this UTC day.' }),
        until: z.iso
          .date({ error: 'Use a date as YYYY-MM-DD' })
          .optional()
          .meta({ description: 'To this UTC day, included.' }),
        cursor: z.string().max(6000).optional().meta({ description: 'The nextCursor of the previous page.' }),
      }),
      responses: { 200: { description: 'A page of alerts, newest first.', schema: pageOf(alertJson) } },
      async handle({ query }, ctx) {
        const l = alertList.parse({
          level: query.level,
          profile: query.profileId,
          mailbox: query.mailboxId,
          since: query.since,
          until: query.until,
          after: query.cursor,
          page: query.cursor ? '2' : '1',
        });
        const p = await listAlerts(prisma, ctx.user, l);
        return {
          status: 200,
          body: {
            items: p.rows.map((a) => ({
              id: a.id,
              level: a.level,
              code: a.code,
              message: a.message,
              hint: a.hint,
              createdAt: a.createdAt.toISOString(),
              profile: a.profile ?? a.mailbox?.profile ?? null,
              mailbox: a.mailbox && { id: a.mailbox.id, name: a.mailbox.name },
            })),
            nextCursor: p.cursors?.after ?? null,
          },
        };
      },
    }),
  ];
}
