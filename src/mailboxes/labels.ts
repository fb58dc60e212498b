// The admins' words (Dynamics 365) for mailbox enums, used by the views.
export const SYNC_METHOD = { NONE: 'None', SERVER_SIDE_SYNC: 'Server-Side Synchronization', EMAIL_ROUTER: 'Email Router' } as const;
export const CHECK_STATUS = { NOT_RUN: 'Not Run', PENDING: 'Pending', SUCCESS: 'Success', FAILURE: 'Failure' } as const;
export const APPROVAL = { EMPTY: 'Empty', PENDING: 'Pending Approval', APPROVED: 'Approved', REJECTED: 'Rejected' } as const;

export function enabledLabel(m: { enabledForIncoming: boolean; enabledForOutgoing: boolean }): string {
  if (m.enabledForIncoming && m.enabledForOutgoing) return 'Incoming and Outgoing';
  if (m.enabledForIncoming) return 'Incoming';
  if (m.enabledForOutgoing) return 'Outgoing';
  return 'No';
}

/** UTC, minute precision: "2026-11-22 03:08 UTC". */
export function when(d: Date | null | undefined): string {
  return d ? d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—';
}

export const labels = { SYNC_METHOD, CHECK_STATUS, APPROVAL, enabledLabel, when };
