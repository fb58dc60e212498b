// The admins' words (Dynamics 365) for mailbox enums, used by the views.
export const SYNC_METHOD = {
  NONE: 'None',
  SERVER_SIDE_SYNC: 'Server-Side Synchronization',
  EMAIL_ROUTER: 'Email Router',
} as const;
export const CHECK_STATUS = { NOT_RUN: 'Not Run', PENDING: 'Pending', SUCCESS: 'Success', FAILURE: 'Failure' } as const;
export const APPROVAL = {
  EMPTY: 'Empty',
  PENDING: 'Pending Approval',
  APPROVED: 'Approved',
  REJECTED: 'Rejected',
} as const;

export function enabledLabel(m: { enabledForIncoming: boolean; enabledForOutgoing: boolean }): string {
  if (m.enabledForIncoming && m.enabledForOutgoing) return 'Incoming and Outgoing';
  if (m.enabledForIncoming) return 'Incoming';
  if (m.enabledForOutgoing) return 'Outgoing';
  return 'No';
}

/** UTC, minute precision: "2026-11-22 03:08 UTC". */
export function when(d: Date | null | undefined): string {
  return d ? `${d.toISOString().replace('T', ' ').slice(0, 16)} UTC` : '—';
}

/** "retry 1 of 3, next at 2026-11-22 04:10 UTC" while a transient Test & Enable failure is being retried. */
export function retryText(m: { retryCount: number; retryLimit: number; nextRetryAt: Date | null }): string {
  return m.retryCount > 0 && m.nextRetryAt
    ? `retry ${m.retryCount} of ${m.retryLimit}, next at ${when(m.nextRetryAt)}`
    : '';
}

export const labels = { SYNC_METHOD, CHECK_STATUS, APPROVAL, enabledLabel, when, retryText };
