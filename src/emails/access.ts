// Who may see which email: an admin any, a mailbox user only the emails of mailboxes they own. Anything else is a 404,
// so a user cannot tell another user's email from one that does not exist.
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import { HttpError } from '../web/errors.ts';

type Viewer = Pick<PublicUser, 'id' | 'role'>;

/** The emails a user may see, as a where clause (list, counts, the record). */
export function visibleEmailsWhere(user: Viewer): Prisma.EmailWhereInput {
  return user.role === 'ADMIN' ? {} : { mailbox: { ownerId: user.id } };
}

export function emailNotFound(): HttpError {
  return new HttpError(404, 'There is nothing at this address, or you do not have access to it.');
}

/** Everything the email record shows; not the IMAP/POP3 bookkeeping. */
export const emailRecordSelect = {
  id: true,
  direction: true,
  status: true,
  messageId: true,
  messageIdSynthetic: true,
  inReplyTo: true,
  references: true,
  fromAddress: true,
  fromName: true,
  to: true,
  cc: true,
  bcc: true,
  subject: true,
  text: true,
  html: true,
  attachments: true,
  size: true,
  receivedAt: true,
  sentAt: true,
  occurredAt: true,
  errorCode: true,
  errorMessage: true,
  errorHint: true,
  attempts: true,
  nextAttemptAt: true,
  smtpResponse: true,
  updatedAt: true,
  mailbox: { select: { id: true, name: true, emailAddress: true } },
  createdBy: { select: { name: true, email: true } },
} as const satisfies Prisma.EmailSelect;
export type EmailRecord = Prisma.EmailGetPayload<{ select: typeof emailRecordSelect }>;

const idParam = z.uuid();

/** The email `id` if the user may see it; throws HttpError 404 otherwise (a malformed id too). */
export async function loadEmailForUser(prisma: PrismaClient, user: Viewer, id: unknown): Promise<EmailRecord> {
  const parsed = idParam.safeParse(id);
  const email = parsed.success
    ? await prisma.email.findFirst({
        where: { id: parsed.data, ...visibleEmailsWhere(user) },
        select: emailRecordSelect,
      })
    : null;
  if (!email) throw emailNotFound();
  return email;
}
