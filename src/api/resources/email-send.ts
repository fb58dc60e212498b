// POST /api/v1/emails: New email and Reply through the API. The body is laid over the New email form's starting values
// (a reply's From, To and "Re:" subject, as the Reply page fills them), read by the form's own schema and queued by
// the pages' send service, so every rule, field error and refusal is the pages' (decisions 018, 020).
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AppDeps } from '../../deps.ts';
import { op, type ApiContext, type Operation } from '../define.ts';
import { ApiProblem, invalidFields } from '../problem.ts';
import { composeSchema, formAddress } from '../../emails/compose-form.ts';
import { ComposeError, newEmailValues, queueEmail } from '../../emails/send-service.ts';
import { loadEmailForUser } from '../../emails/access.ts';
import { fieldErrors } from '../../web/forms.ts';
import { emailJson, emailToJson } from './emails.ts';

const recipients = (label: string) =>
  z
    .union(
      [
        z.string(),
        z.array(z.union([z.string(), z.object({ address: z.string(), name: z.string().nullable().optional() })])),
      ],
      { error: `${label}: use a string of addresses separated by commas, or an array of addresses` },
    )
    .optional()
    .meta({
      description: `${label}: "Ada <ada@example.org>, bob@example.net", or an array of such strings or of {address, name}.`,
    });

export const sendBody = z.object({
  mailboxId: z
    .string({ error: 'Choose the mailbox to send from.' })
    .optional()
    .meta({ description: "From: the id of a mailbox you may send from. A reply's default: the original's mailbox." }),
  to: recipients('To'),
  cc: recipients('Cc'),
  bcc: recipients('Bcc'),
  subject: z.string({ error: 'Enter a subject as text.' }).optional(),
  text: z.string({ error: 'Enter the message as text.' }).optional().meta({ description: 'The message, plain text.' }),
  replyToId: z.string({ error: 'Use the id of the email to reply to.' }).nullable().optional().meta({
    description:
      'Reply to this email (its id): threaded under it, and From, To and Subject default to what the Reply page fills in.',
  }),
});
type SendBody = z.infer<typeof sendBody>;

/** The form's text for a list of addresses. */
const asField = (v: SendBody['to']) =>
  Array.isArray(v) ? v.map((a) => (typeof a === 'string' ? a : formAddress(a))).join(', ') : v;

/**
 * The email's id, which the send service uses to find a repeat: made from the token and its Idempotency-Key when one
 * is sent, so even a repeat that the key's stored answer cannot serve (the first request failed after queueing, or
 * the key is older than a day) finds the same email and sends nothing again.
 */
function submissionId(ctx: ApiContext): string {
  const key = ctx.req.get('idempotency-key');
  if (!key) return randomUUID();
  const h = createHash('sha256').update(`${ctx.token.id}\n${key}`).digest('hex');
  // An RFC 9562 version 8 (custom) UUID.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const uuid = z.uuid();

export function emailSendOperations(deps: AppDeps): Operation[] {
  const { prisma } = deps.db;
  return [
    op({
      method: 'post',
      path: '/emails',
      operationId: 'sendEmail',
      summary: 'Send an email (New email or Reply)',
      description:
        'Queues the email as Pending Send; the outgoing worker sends it through the mailbox (Sent, Failed or Sent status unknown: read the email to follow). ' +
        'The same fields and rules as the New email page; a mailbox that cannot send answers 422 with its code and what to do. ' +
        'Send an Idempotency-Key to make retries safe: a repeat answers the first answer and sends nothing again.',
      tag: 'Emails',
      access: 'write',
      idempotent: true,
      body: sendBody,
      requestExample: {
        mailboxId: '6f1c2b7e-3d4a-4b5c-9d8e-7f6a5b4c3d2e',
        to: ['Grace Hopper <grace@example.org>', { address: 'bob@example.net', name: 'Bob' }],
        cc: 'carol@example.com',
        subject: 'Quarterly report',
        text: 'Hello,\n\nthe report is attached in spirit.\n\nAda',
      },
      responses: {
        202: {
          description: 'Queued (Pending Send). `Location` and `url` are the email, to read its status as it changes.',
          schema: emailJson.extend({ url: z.string().meta({ description: "The email's address in this API." }) }),
          example: {
            id: '0b8e4c1a-5f2d-4e3b-9a7c-6d5e4f3a2b1c',
            url: '/api/v1/emails/0b8e4c1a-5f2d-4e3b-9a7c-6d5e4f3a2b1c',
            mailbox: { id: '6f1c2b7e-3d4a-4b5c-9d8e-7f6a5b4c3d2e', name: 'Sales', emailAddress: 'sales@example.com' },
            direction: 'OUTGOING',
            status: 'PENDING_SEND',
            from: { address: 'sales@example.com', name: 'Ada Lovelace' },
            to: [
              { address: 'grace@example.org', name: 'Grace Hopper' },
              { address: 'bob@example.net', name: 'Bob' },
            ],
            cc: [{ address: 'carol@example.com', name: '' }],
            bcc: [],
            subject: 'Quarterly report',
            occurredAt: '2026-12-01T20:15:00.000Z',
            messageId: '<0b8e4c1a-5f2d-4e3b-9a7c-6d5e4f3a2b1c@example.com>',
            inReplyTo: null,
            references: [],
            text: 'Hello,\n\nthe report is attached in spirit.\n\nAda',
            html: null,
            attachments: [],
            size: 47,
            receivedAt: null,
            sentAt: null,
            error: null,
            attempts: 0,
          },
        },
        404: { description: 'The mailbox, or the email replied to, does not exist or is not yours to see.' },
        503: { description: 'Background jobs are not running on this server: email cannot be sent.' },
      },
      async handle({ body }, ctx) {
        const reply = typeof body.replyToId === 'string' && uuid.safeParse(body.replyToId).success;
        const start = await newEmailValues(prisma, ctx.user, {
          replyToId: reply ? (body.replyToId as string) : undefined,
        });
        const form: Record<string, unknown> = { ...start, submissionId: submissionId(ctx) };
        for (const [k, v] of Object.entries(body)) if (v !== undefined) form[k] = asField(v as SendBody['to']) ?? '';
        const parsed = composeSchema.safeParse(form);
        if (!parsed.success) throw invalidFields(fieldErrors(parsed.error));
        let id: string;
        try {
          ({ id } = await queueEmail({ prisma, jobs: deps.jobs }, ctx.user, parsed.data, ctx.who));
        } catch (e) {
          if (!(e instanceof ComposeError)) throw e;
          if (!e.refusal) throw invalidFields(e.errors);
          throw new ApiProblem(422, `${e.refusal.message} ${e.refusal.hint}`, {
            type: '/api/problems/mailbox-cannot-send',
            code: e.refusal.code,
            errors: e.errors,
          });
        }
        const url = `/api/v1/emails/${id}`;
        const email = emailToJson(await loadEmailForUser(prisma, ctx.user, id));
        return { status: 202, headers: { Location: url }, body: { ...email, url } };
      },
    }),
  ];
}
