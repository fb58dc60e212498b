// An email as one row of a list (the Emails list, a mailbox's latest emails): plain, pre-formatted fields only.
import type { EmailDirection, EmailStatus, Prisma } from '../generated/prisma/client.ts';
import { isPending } from './send-status.ts';
import { addressLabel, addressLine, addresses, DIRECTION, EMAIL_STATUS, statusTone, timeLabel } from './labels.ts';

export interface EmailRowData {
  id: string;
  direction: EmailDirection;
  status: EmailStatus;
  fromAddress: string;
  fromName: string;
  to: unknown;
  subject: string;
  occurredAt: Date;
  mailbox: { id: string; name: string };
}

/** EmailRowData as a Prisma select: only what a row shows, never the bodies. */
export const emailRowSelect = {
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

export function emailRow(r: EmailRowData, filterHref?: (change: { mailbox: string }) => string) {
  return {
    id: r.id,
    href: `/emails/${r.id}`,
    subject: r.subject || '(no subject)',
    from: addressLabel({ address: r.fromAddress, name: r.fromName }) || '—',
    to: addressLine(addresses(r.to), 2) || '—',
    date: timeLabel(r.occurredAt),
    dateIso: r.occurredAt.toISOString(),
    direction: DIRECTION[r.direction],
    status: EMAIL_STATUS[r.status],
    statusTone: statusTone(r.status),
    /** Pending Send or Sending: public/js/email-status.js polls until it changes. */
    pending: isPending(r.status),
    mailbox: { id: r.mailbox.id, name: r.mailbox.name, filter: filterHref?.({ mailbox: r.mailbox.id }) ?? null },
  };
}
export type EmailRow = ReturnType<typeof emailRow>;
