// The live status rows the mailbox list and record poll while Test & Enable runs.
import type { Prisma } from '../generated/prisma/client.ts';
import { CHECK_STATUS, enabledLabel, retryText, when } from '../mailboxes/labels.ts';

export interface LiveStatus {
  id: string;
  incomingStatus: string;
  outgoingStatus: string;
  enabled: string;
  lastTest: string;
  pending: boolean;
  retry: string;
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
    outgoingStatus: CHECK_STATUS[m.outgoingStatus],
    enabled: enabledLabel(m),
    lastTest: when(m.lastTestCompletedAt),
    pending: m.incomingStatus === 'PENDING' || m.outgoingStatus === 'PENDING',
    retry: retryText(m),
  };
}
