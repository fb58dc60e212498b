// How an outgoing email's sending reads while it happens: "Retry 2 of 5, next at 14:03:12 UTC", the server's answer
// when Sent, and the JSON the list and record poll (public/js/email-status.js) so statuses change without a reload.
import { z } from 'zod';
import type { EmailStatus, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import { visibleEmailsWhere } from './access.ts';
import { EMAIL_STATUS, statusTone, timeLabel } from './labels.ts';

/** Statuses that may still change by themselves: the page keeps polling while one is shown. */
export const isPending = (status: EmailStatus) => status === 'PENDING_SEND' || status === 'SENDING';

export interface SendProgressFields {
  direction: 'INCOMING' | 'OUTGOING';
  status: EmailStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  errorCode: string | null;
}

/** The line under an outgoing email's status; '' when there is nothing to add. */
export function sendProgress(e: SendProgressFields, retryLimit: number): string {
  if (e.direction !== 'OUTGOING') return '';
  if (e.status === 'PENDING_SEND' && e.attempts > 0 && e.nextAttemptAt)
    return `Attempt ${e.attempts} failed (${e.errorCode ?? 'error'}). Retry ${e.attempts} of ${retryLimit}, next at ${timeLabel(e.nextAttemptAt, true)}.`;
  if (e.status === 'PENDING_SEND') return 'Queued: it is sent in a few seconds.';
  if (e.status === 'SENDING') return `Sending (attempt ${e.attempts} of ${retryLimit + 1}).`;
  if (e.status === 'UNKNOWN')
    return 'Sent status unknown — check the Sent folder in Gmail. Mailroom does not send it again.';
  return '';
}

export const emailIds = z.preprocess(
  (v) => (v === undefined ? [] : Array.isArray(v) ? v : String(v).split(',')),
  z.array(z.uuid()).max(200),
);

/** The live statuses of the emails the user may see among `ids`. */
export async function emailStatuses(
  prisma: PrismaClient,
  user: Pick<PublicUser, 'id' | 'role'>,
  ids: string[],
  retryLimit: number,
) {
  if (!ids.length) return [];
  const rows = await prisma.email.findMany({
    where: { id: { in: ids }, ...visibleEmailsWhere(user) },
    select: {
      id: true,
      direction: true,
      status: true,
      attempts: true,
      nextAttemptAt: true,
      errorCode: true,
      updatedAt: true,
    },
  });
  return rows.map((e) => ({
    id: e.id,
    status: EMAIL_STATUS[e.status],
    statusCode: e.status,
    tone: statusTone(e.status),
    pending: isPending(e.status),
    progress: sendProgress(e, retryLimit),
    version: `${e.status}:${e.attempts}:${e.updatedAt.getTime()}`,
  }));
}
