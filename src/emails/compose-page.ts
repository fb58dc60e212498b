// The New email page's locals: the From choices (the mailboxes the user may send from; those that cannot send now are
// shown disabled with the reason), the fields as typed, their errors, and the email a reply answers.
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import type { FieldErrors } from '../web/forms.ts';
import { addressLabel, timeLabel } from './labels.ts';
import { loadReplyOriginal, senderMailboxes } from './send-service.ts';

export async function composePage(
  prisma: PrismaClient,
  user: Pick<PublicUser, 'id' | 'role'>,
  values: Record<string, string>,
  errors: FieldErrors,
) {
  const mailboxes = await senderMailboxes(prisma, user);
  const usable = mailboxes.filter((m) => !m.refusal);
  // One usable mailbox and none chosen: it is the From.
  if (!values.mailboxId && usable.length === 1) values.mailboxId = usable[0].id;
  const original = values.replyToId ? await loadReplyOriginal(prisma, user, values.replyToId).catch(() => null) : null;
  const chosen = mailboxes.find((m) => m.id === values.mailboxId);
  return {
    title: original ? 'Reply' : 'New email',
    values,
    errors,
    mailboxes,
    usable: usable.length,
    /** The chosen mailbox cannot send: why, next to the From field. */
    chosenRefusal: chosen?.refusal ?? null,
    replyTo: original
      ? {
          id: original.id,
          subject: original.subject || '(no subject)',
          from: addressLabel({ address: original.fromAddress, name: original.fromName }),
        }
      : null,
    cancel: original ? `/emails/${original.id}` : values.mailboxId ? `/emails?mailbox=${values.mailboxId}` : '/emails',
    timeLabel,
  };
}
