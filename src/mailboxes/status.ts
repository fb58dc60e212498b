// A mailbox's Test & Enable state as the live page script sees it: pending or not, and a version that changes
// whenever the record's test panel would read differently (the list and the record both render these).
export interface StatusFields {
  incomingStatus: string;
  outgoingStatus: string;
  enabledForIncoming: boolean;
  enabledForOutgoing: boolean;
  retryCount: number;
  nextRetryAt: Date | null;
  lastTestCompletedAt: Date | null;
}

export function isPending(m: Pick<StatusFields, 'incomingStatus' | 'outgoingStatus'>): boolean {
  return m.incomingStatus === 'PENDING' || m.outgoingStatus === 'PENDING';
}

/** What the record's panel depends on, as one string (the page compares it, nothing parses it). */
export function statusVersion(m: StatusFields): string {
  return [
    m.incomingStatus,
    m.outgoingStatus,
    m.enabledForIncoming,
    m.enabledForOutgoing,
    m.retryCount,
    m.nextRetryAt?.getTime() ?? '',
    m.lastTestCompletedAt?.getTime() ?? '',
  ].join(':');
}
