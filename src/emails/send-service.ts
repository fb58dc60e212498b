// Writing an email: who may send from which mailbox, why a mailbox refuses, and queueing one email (the row and its
// send job in one transaction). Pages call this today; the JSON API (issue 16) calls the same functions.
import { randomUUID } from 'node:crypto';
import { fromPrisma } from 'pg-boss';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import type { Jobs } from '../jobs/boss.ts';
import { audit, type AuditEntry } from '../security/audit.ts';
import { HttpError } from '../web/errors.ts';
import { emailNotFound, visibleEmailsWhere } from './access.ts';
import { formAddress, type ComposeInput } from './compose-form.ts';
import { addresses } from './labels.ts';
import { SEND_QUEUE, type SendPayload } from './send-job.ts';

type Viewer = Pick<PublicUser, 'id' | 'role'>;

/** The mailboxes a user may send from: an admin any, a user their own (the same rule as src/mailboxes/access.ts). */
const ownMailboxesWhere = (user: Viewer): Prisma.MailboxWhereInput =>
  user.role === 'ADMIN' ? {} : { ownerId: user.id };

/** What the refusal rules read of a mailbox. */
export const senderSelect = {
  id: true,
  name: true,
  emailAddress: true,
  ownerId: true,
  outgoingEmail: true,
  emailApproval: true,
  enabledForOutgoing: true,
  credentialPassword: true,
  owner: { select: { name: true } },
  profile: { select: { id: true, authenticateUsing: true } },
  grant: { select: { id: true, needsReconsent: true } },
} as const satisfies Prisma.MailboxSelect;
export type SenderMailbox = Prisma.MailboxGetPayload<{ select: typeof senderSelect }>;

export interface Refusal {
  code: string;
  message: string;
  hint: string;
}

/** Why this mailbox cannot send now, or null. The same rules refuse a new email and fail a queued one. */
export function outgoingRefusal(mb: SenderMailbox): Refusal | null {
  if (mb.outgoingEmail !== 'SERVER_SIDE_SYNC')
    return {
      code: 'OUTGOING_NOT_SYNCHRONIZED',
      message: 'Outgoing Email of this mailbox is not Server-Side Synchronization.',
      hint: 'Edit the mailbox, set Outgoing Email to Server-Side Synchronization, then select Test & Enable Mailbox.',
    };
  if (mb.emailApproval !== 'APPROVED')
    return {
      code: 'NOT_APPROVED',
      message: "The mailbox's email address is not approved.",
      hint: 'An administrator must select Approve Email on the mailbox, then Test & Enable Mailbox.',
    };
  if (!mb.profile)
    return {
      code: 'NO_PROFILE',
      message: 'The mailbox has no email server profile.',
      hint: 'Edit the mailbox and choose a Server Profile, then select Test & Enable Mailbox.',
    };
  if (mb.profile.authenticateUsing === 'GMAIL_OAUTH' && (!mb.grant || mb.grant.needsReconsent))
    return {
      code: 'NO_GRANT',
      message: 'The mailbox is not signed in to Gmail (its sign-in was removed or revoked).',
      hint: 'Select Sign in to Gmail on the mailbox, then Test & Enable Mailbox.',
    };
  if (mb.profile.authenticateUsing === 'CREDENTIALS_PER_MAILBOX' && !mb.credentialPassword)
    return {
      code: 'CREDENTIALS_MISSING',
      message: 'The mailbox has no stored password.',
      hint: 'Edit the mailbox and enter its User Name and Password, then select Test & Enable Mailbox.',
    };
  if (!mb.enabledForOutgoing)
    return {
      code: 'NOT_ENABLED_FOR_OUTGOING',
      message: 'The mailbox is not enabled for outgoing email.',
      hint: 'Select Test & Enable Mailbox on the mailbox; it is enabled when the outgoing check passes.',
    };
  return null;
}

/** The mailboxes the New email form offers: a user's own, an admin's any; those that refuse come with why. */
export async function senderMailboxes(prisma: PrismaClient, user: Viewer, take = 500) {
  const rows = await prisma.mailbox.findMany({
    where: ownMailboxesWhere(user),
    orderBy: { name: 'asc' },
    take,
    select: senderSelect,
  });
  return rows.map((mb) => ({ id: mb.id, name: mb.name, emailAddress: mb.emailAddress, refusal: outgoingRefusal(mb) }));
}

export class ComposeError extends Error {
  constructor(
    readonly errors: Record<string, string>,
    /** Set when the mailbox refuses to send (the API answers its code). */
    readonly refusal?: Refusal,
  ) {
    super(Object.values(errors).join(' '));
  }
}

export interface SendDeps {
  prisma: PrismaClient;
  jobs?: Jobs;
}

export interface Queued {
  id: string;
  /** The same form was submitted before: this is the email it made, nothing new was queued. */
  duplicate: boolean;
}

/** Threading headers of a reply: In-Reply-To the original's Message-ID, References its chain plus it. */
export function replyHeaders(original: { messageId: string; messageIdSynthetic: boolean; references: string[] }) {
  if (original.messageIdSynthetic) return { inReplyTo: null, references: [] as string[] };
  return { inReplyTo: original.messageId, references: [...original.references, original.messageId].slice(-30) };
}

/** "Re: " once, however many replies deep. */
export function replySubject(subject: string): string {
  return /^\s*re\s*:/i.test(subject) ? subject : `Re: ${subject}`.trim();
}

/** An email the user may see, as the original of a reply (404 otherwise). */
export async function loadReplyOriginal(prisma: PrismaClient, user: Viewer, id: string) {
  const original = await prisma.email.findFirst({
    where: { id, ...visibleEmailsWhere(user) },
    select: {
      id: true,
      mailboxId: true,
      direction: true,
      messageId: true,
      messageIdSynthetic: true,
      references: true,
      subject: true,
      fromAddress: true,
      fromName: true,
      to: true,
    },
  });
  if (!original) throw emailNotFound();
  return original;
}

const messageIdFor = (address: string) => `<${randomUUID()}@${address.split('@')[1] || 'mailroom.invalid'}>`;

/**
 * Queues one email: the row (Pending Send, its Message-ID made here) and its send job (payload: the email id) commit
 * together. The form's submissionId is the email's id, so submitting the same form twice makes one email.
 * Throws HttpError 404 for a mailbox (or reply original) the user may not see, ComposeError for a refusing mailbox.
 */
export async function queueEmail(
  deps: SendDeps,
  user: Viewer,
  input: ComposeInput,
  who?: Pick<AuditEntry, 'actor' | 'ip'>,
): Promise<Queued> {
  const { prisma, jobs } = deps;
  if (!jobs) throw new HttpError(503, 'Background jobs are not running on this server: email cannot be sent.');
  const earlier = await existing(prisma, user, input.submissionId);
  if (earlier) return earlier;
  const mb = await prisma.mailbox.findFirst({
    where: { id: input.mailboxId, ...ownMailboxesWhere(user) },
    select: senderSelect,
  });
  if (!mb) throw emailNotFound(); // another user's mailbox reads as none at all
  const refusal = outgoingRefusal(mb);
  if (refusal) throw new ComposeError({ mailboxId: `${refusal.message} ${refusal.hint}` }, refusal);
  const original = input.replyToId ? await loadReplyOriginal(prisma, user, input.replyToId) : null;
  const thread = original ? replyHeaders(original) : { inReplyTo: null, references: [] };
  await jobs.ready;
  try {
    await prisma.$transaction(async (tx) => {
      await tx.email.create({
        data: {
          id: input.submissionId,
          mailboxId: mb.id,
          direction: 'OUTGOING',
          status: 'PENDING_SEND',
          messageId: messageIdFor(mb.emailAddress),
          inReplyTo: thread.inReplyTo,
          references: thread.references,
          fromAddress: mb.emailAddress,
          fromName: mb.owner.name,
          to: input.to as unknown as Prisma.InputJsonValue,
          cc: input.cc as unknown as Prisma.InputJsonValue,
          bcc: input.bcc as unknown as Prisma.InputJsonValue,
          subject: input.subject,
          text: input.text,
          size: Buffer.byteLength(input.text),
          createdById: user.id,
        },
      });
      const payload: SendPayload = { emailId: input.submissionId };
      await jobs.boss.send(SEND_QUEUE, payload, { db: fromPrisma(tx) });
      await audit(tx, {
        action: 'email.send',
        targetType: 'Email',
        targetId: input.submissionId,
        actor: who?.actor ?? { id: user.id },
        ip: who?.ip ?? null,
        details: { step: 'queued', mailboxId: mb.id, recipients: input.to.length + input.cc.length + input.bcc.length },
      });
    });
  } catch (e) {
    // Two submits of one form at the same moment: the second insert hits the first's id.
    if ((e as { code?: unknown }).code === 'P2002') {
      const again = await existing(prisma, user, input.submissionId);
      if (again) return again;
      throw new ComposeError({ _form: 'This form was already used. Reload the page and write the email again.' });
    }
    throw e;
  }
  return { id: input.submissionId, duplicate: false };
}

/** An email this form already made, if this user made it; someone else's id is refused. */
async function existing(prisma: PrismaClient, user: Viewer, id: string): Promise<Queued | null> {
  const row = await prisma.email.findUnique({ where: { id }, select: { id: true, createdById: true } });
  if (!row) return null;
  if (row.createdById !== user.id)
    throw new ComposeError({ _form: 'This form was already used. Reload the page and write the email again.' });
  return { id: row.id, duplicate: true };
}

/** The New email form's starting values: a fresh submission id, the chosen mailbox, a reply's To and Subject. */
export async function newEmailValues(
  prisma: PrismaClient,
  user: Viewer,
  o: { mailboxId?: string; replyToId?: string },
): Promise<Record<string, string>> {
  const values: Record<string, string> = {
    submissionId: randomUUID(),
    mailboxId: o.mailboxId ?? '',
    to: '',
    cc: '',
    bcc: '',
    subject: '',
    text: '',
    replyToId: '',
  };
  if (o.replyToId) {
    const original = await loadReplyOriginal(prisma, user, o.replyToId);
    values.replyToId = original.id;
    values.mailboxId = original.mailboxId;
    values.subject = replySubject(original.subject);
    // A reply to mail we sent goes to its recipients again; a reply to incoming mail goes to its sender.
    const to =
      original.direction === 'OUTGOING'
        ? addresses(original.to)
        : [{ address: original.fromAddress, name: original.fromName }];
    values.to = to
      .filter((a) => a.address)
      .map(formAddress)
      .join(', ');
  }
  return values;
}
