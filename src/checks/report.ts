// The live status rows the mailbox list and record poll while Test & Enable runs (public/js/live-status.js).
import type { Prisma } from '../generated/prisma/client.ts';
import { CHECK_STATUS, enabledLive, retryText, whenExact } from '../mailboxes/labels.ts';
import { isPending, statusVersion } from '../mailboxes/status.ts';

export interface LiveStatus {
  id: string;
  /** Labels for the cells, and the codes the badges' classes come from (badge-success, badge-pending…). */
  incomingStatus: string;
  incomingStatusCode: string;
  outgoingStatus: string;
  outgoingStatusCode: string;
  /** "Pending" while a test runs: the old value would be a claim the test may be about to change. */
  enabled: string;
  lastTest: string;
  /** The flag the page polls by (never the English label). */
  pending: boolean;
  retry: string;
  /** Changes whenever the record's test panel would show something else: the page then reloads that panel. */
  version: string;
}

type StatusFields = Prisma.MailboxGetPayload<{ select: typeof statusSelect }>;
export const statusSelect = {
  id: true,
  incomingStatus: true,
  outgoingStatus: true,
  enabledForIncoming: true,
  enabledForOutgoing: true,
  lastTestCompletedAt: true,
  retryCount: true,
  retryLimit: true,
  nextRetryAt: true,
} as const;

export function liveStatus(m: StatusFields): LiveStatus {
  return {
    id: m.id,
    incomingStatus: CHECK_STATUS[m.incomingStatus],
    incomingStatusCode: m.incomingStatus,
    outgoingStatus: CHECK_STATUS[m.outgoingStatus],
    outgoingStatusCode: m.outgoingStatus,
    enabled: enabledLive(m),
    lastTest: whenExact(m.lastTestCompletedAt),
    pending: isPending(m),
    retry: retryText(m),
    version: statusVersion(m),
  };
}
