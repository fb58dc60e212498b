// /api/v1/emails: the Emails list and record, under the same visibility (an admin any email, a user their mailboxes').
// Bodies come as stored: `html` is the message's own, unsanitized — a client that displays it must sanitize it.
import { z } from 'zod';
import type { AppDeps } from '../../deps.ts';
import { op, type Operation } from '../define.ts';
import { dateTime, iso, pageOf } from '../paging.ts';
import { emailList, listEmails } from '../../emails/list.ts';
import { loadEmailForUser } from '../../emails/access.ts';
import { EMAIL_STATUS } from '../../emails/labels.ts';

const STATUSES = Object.keys(EMAIL_STATUS) as [keyof typeof EMAIL_STATUS, ...(keyof typeof EMAIL_STATUS)[]];
const address = z.object({ address: z.string(), name: z.string().optional() }).loose();

const emailRowJson = z.object({
  id: z.uuid(),
  mailbox: z.object({ id: z.uuid(), name: z.string() }),
  direction: z.enum(['INCOMING', 'OUTGOING']),
  status: z.enum(STATUSES),
  from: z.object({ address: z.string().nullable(), name: z.string().nullable() }),
  to: z.array(address),
  subject: z.string().nullable(),
  occurredAt: dateTime,
});
export const emailJson = emailRowJson.extend({
  mailbox: z.object({ id: z.uuid(), name: z.string(), emailAddress: z.string() }),
  messageId: z.string(),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  cc: z.array(address),
  bcc: z.array(address),
  text: z.string().nullable(),
  html: z.string().nullable().meta({ description: "The message's own HTML, unsanitized: sanitize before display." }),
  attachments: z.array(z.object({ name: z.string(), type: z.string(), size: z.number() }).loose()),
  size: z.int().nullable(),
  receivedAt: dateTime.nullable(),
  sentAt: dateTime.nullable(),
  error: z.object({ code: z.string(), message: z.string().nullable(), hint: z.string().nullable() }).nullable(),
  attempts: z.int(),
});

const list = (v: unknown) => (Array.isArray(v) ? v : []);

export function emailOperations(deps: AppDeps): Operation[] {
  const { prisma } = deps.db;
  const tag = 'Emails';
  return [
    op({
      method: 'get',
      path: '/emails',
      operationId: 'listEmails',
      summary: 'List emails',
      description: 'Newest first (or by sender or subject), 50 a page. Never the bodies: read one email for those.',
      tag,
      access: 'read',
      query: z.object({
        q: z.string().max(200).optional().meta({ description: 'Part of the subject or sender.' }),
        mailboxId: z.uuid({ error: 'Use a mailbox id' }).optional(),
        direction: z.enum(['INCOMING', 'OUTGOING'], { error: 'Use INCOMING or OUTGOING' }).optional(),
        status: z.enum(STATUSES, { error: `Use one of ${STATUSES.join(', ')}` }).optional(),
        since: z.iso.date({ error: 'Use a date as YYYY-MM-DD' }).optional(),
        until: z.iso.date({ error: 'Use a date as YYYY-MM-DD' }).optional(),
        sort: z.enum(['date', 'from', 'subject'], { error: 'Use date, from or subject' }).optional(),
        dir: z.enum(['asc', 'desc'], { error: 'Use asc or desc' }).optional(),
        cursor: z.string().max(6000).optional().meta({ description: 'The nextCursor of the previous page.' }),
      }),
      responses: { 200: { description: 'A page of emails.', schema: pageOf(emailRowJson) } },
      async handle({ query }, ctx) {
        const l = emailList.parse({
          q: query.q,
          mailbox: query.mailboxId,
          direction: query.direction,
          status: query.status,
          since: query.since,
          until: query.until,
          sort: query.sort,
          dir: query.dir,
          after: query.cursor,
          page: query.cursor ? '2' : '1',
        });
        const p = await listEmails(deps.db.raw, ctx.user, l);
        return {
          status: 200,
          body: {
            items: p.rows.map((e) => ({
              id: e.id,
              mailbox: e.mailbox,
              direction: e.direction,
              status: e.status,
              from: { address: e.fromAddress, name: e.fromName },
              to: list(e.to),
              subject: e.subject,
              occurredAt: e.occurredAt.toISOString(),
            })),
            nextCursor: p.cursors?.after ?? null,
          },
        };
      },
    }),
    op({
      method: 'get',
      path: '/emails/:id',
      operationId: 'getEmail',
      summary: 'Read an email',
      tag,
      access: 'read',
      params: z.object({ id: z.uuid() }),
      responses: { 200: { description: 'The email with its bodies and attachment metadata.', schema: emailJson } },
      async handle({ params }, ctx) {
        return { status: 200, body: emailToJson(await loadEmailForUser(prisma, ctx.user, params.id)) };
      },
    }),
  ];
}

/** An email as the API answers it (read, and the answer to a send). */
export function emailToJson(e: Awaited<ReturnType<typeof loadEmailForUser>>): z.output<typeof emailJson> {
  return {
    id: e.id,
    mailbox: e.mailbox,
    direction: e.direction,
    status: e.status,
    from: { address: e.fromAddress, name: e.fromName },
    to: list(e.to),
    cc: list(e.cc),
    bcc: list(e.bcc),
    subject: e.subject,
    occurredAt: e.occurredAt.toISOString(),
    messageId: e.messageId,
    inReplyTo: e.inReplyTo,
    references: e.references,
    text: e.text,
    html: e.html,
    attachments: list(e.attachments),
    size: e.size,
    receivedAt: iso(e.receivedAt),
    sentAt: iso(e.sentAt),
    error: e.errorCode ? { code: e.errorCode, message: e.errorMessage, hint: e.errorHint } : null,
    attempts: e.attempts,
  };
}
