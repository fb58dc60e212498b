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

/** The Enabled column: "Pending" while either status is (a test is about to decide), else what is enabled. */
export function enabledLive(m: {
  incomingStatus: string;
  outgoingStatus: string;
  enabledForIncoming: boolean;
  enabledForOutgoing: boolean;
}): string {
  return m.incomingStatus === 'PENDING' || m.outgoingStatus === 'PENDING' ? CHECK_STATUS.PENDING : enabledLabel(m);
}

/** UTC, minute precision: "2026-11-22 03:08 UTC". */
export function when(d: Date | null | undefined): string {
  return d ? `${d.toISOString().replace('T', ' ').slice(0, 16)} UTC` : '—';
}

const DAY_MS = 86_400_000;

/** UTC to the second, the date left out when it is today's: "13:26:04 UTC" or "2026-11-22 03:08:05 UTC". */
export function whenExact(d: Date | null | undefined, now: Date | number = Date.now()): string {
  if (!d) return '—';
  const iso = d.toISOString();
  const time = `${iso.slice(11, 19)} UTC`;
  // The same UTC day by the epoch's day number: the list called this for each of its 50 rows, each time formatting
  // now as well (decision 040).
  return Math.floor(d.getTime() / DAY_MS) === Math.floor(Number(now) / DAY_MS) ? time : `${iso.slice(0, 10)} ${time}`;
}

/** "in 4 s", "in 3 min", "12 s ago", "now": how far a moment is from now (public/js/live-status.js says the same). */
export function relative(d: Date, now = new Date()): string {
  const s = Math.round((d.getTime() - now.getTime()) / 1000);
  const a = Math.abs(s);
  if (a < 1) return 'now';
  const n =
    a < 60
      ? `${a} s`
      : a < 3600
        ? `${Math.round(a / 60)} min`
        : a < 86_400
          ? `${Math.round(a / 3600)} h`
          : `${Math.round(a / 86_400)} d`;
  return s > 0 ? `in ${n}` : `${n} ago`;
}

/** "retry 1 of 3, next at 13:26:04 UTC" while a transient Test & Enable failure is being retried. */
export function retryText(
  m: { retryCount: number; retryLimit: number; nextRetryAt: Date | null },
  now = new Date(),
): string {
  return m.retryCount > 0 && m.nextRetryAt
    ? `retry ${m.retryCount} of ${m.retryLimit}, next at ${whenExact(m.nextRetryAt, now)}`
    : '';
}

export const labels = {
  SYNC_METHOD,
  CHECK_STATUS,
  APPROVAL,
  enabledLabel,
  enabledLive,
  when,
  whenExact,
  relative,
  retryText,
};
