// What a mailbox's synchronization does after a failure, after a recovery, and what a profile shows when many of its
// mailboxes fail. Pure, like checks/outcome.ts: every rule is unit-tested without servers. The failure comes already
// classified by the one error map (mail/errors.ts → code, transient, hint).

export interface SyncFailure {
  code: string;
  transient: boolean;
  message: string;
  hint: string;
}
export interface SyncAlert {
  level: 'ERROR' | 'WARNING' | 'INFO';
  code: string;
  message: string;
  hint: string;
}
/** The badge and next step shown on the mailbox and in the list when synchronization stopped. */
export type Badge = 'SIGN_IN_AGAIN' | 'CHANGE_GMAIL_SETTING' | 'FIX_PROFILE' | 'FIX_MAILBOX';

export interface RetryPolicy {
  /** Retries with growing delays before the mailbox is shown as failing. */
  retryLimit: number;
  baseMs: number;
  maxMs: number;
  /** After the limit, transient trouble is still retried this often (jittered), never given up on. */
  slowMs: number;
}
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retryLimit: 10,
  baseMs: 5_000,
  maxMs: 15 * 60_000,
  slowMs: 15 * 60_000,
};

export interface HealthInput {
  failure: SyncFailure;
  auth: 'xoauth2' | 'password';
  /** Consecutive failed attempts before this one (MailboxSync.retryCount). */
  retryCount: number;
  /** The session already refreshed the access token and logged in again once after this XOAUTH2 rejection. */
  refreshedAfterAuthFailure: boolean;
  now: Date;
  policy?: RetryPolicy;
  random?: () => number;
}

export type HealthDecision =
  | { action: 'refresh-token' }
  | {
      action: 'retry';
      state: 'BACKING_OFF';
      retryCount: number;
      nextAttemptAt: Date;
      label: string;
      /** FAILURE once past the retry limit; null: leave the status as it is. */
      incomingStatus: 'FAILURE' | null;
      alert: SyncAlert | null;
    }
  | {
      action: 'stop';
      state: 'STOPPED';
      stoppedReason: string;
      incomingStatus: 'FAILURE';
      enabledForIncoming: false;
      badge: Badge | null;
      alert: SyncAlert;
    };

/** Permanent by nature of the account, the grant or the settings: retrying cannot help, so stop at once. */
const STOP_NOW: Record<string, Badge | ((auth: HealthInput['auth']) => Badge)> = {
  TOKEN_REVOKED: 'SIGN_IN_AGAIN',
  MISSING_SCOPE: 'SIGN_IN_AGAIN',
  NOT_SIGNED_IN: 'SIGN_IN_AGAIN',
  ACCOUNT_MISMATCH: 'SIGN_IN_AGAIN',
  AUTH_FAILED: (auth) => (auth === 'password' ? 'FIX_MAILBOX' : 'SIGN_IN_AGAIN'),
  SECRET_UNREADABLE: (auth) => (auth === 'password' ? 'FIX_MAILBOX' : 'SIGN_IN_AGAIN'),
  CREDENTIALS_MISSING: 'FIX_MAILBOX',
  IMAP_DISABLED: 'CHANGE_GMAIL_SETTING',
  POP_DISABLED: 'CHANGE_GMAIL_SETTING',
  ADMIN_POLICY: 'CHANGE_GMAIL_SETTING',
  OAUTH_CLIENT: 'FIX_PROFILE',
  TLS_HANDSHAKE: 'FIX_PROFILE',
  TLS_REQUIRED: 'FIX_PROFILE',
};
/** Not transient, but once a mailbox has worked usually passing trouble (DNS, a certificate swap): retried, then stop. */
const STOP_AFTER_RETRIES: Record<string, Badge> = { DNS: 'FIX_PROFILE', TLS_CERT: 'FIX_PROFILE' };

const WHAT: Record<Badge, string> = {
  SIGN_IN_AGAIN: 'Select Sign in to Gmail again, then Test & Enable Mailbox.',
  CHANGE_GMAIL_SETTING: 'Change the Gmail setting named in the hint, then select Test & Enable Mailbox.',
  FIX_PROFILE: 'Fix the email server profile, then select Test & Enable Mailbox.',
  FIX_MAILBOX: "Edit the mailbox's user name and password, then select Test & Enable Mailbox.",
};

/** Exponential backoff with jitter in [d/2, d]: d = base·2^(n-1), capped. */
export function backoffMs(n: number, p: RetryPolicy, random: () => number): number {
  const d = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, n - 1));
  return Math.round(d / 2 + random() * (d / 2));
}

/** "14:03:12 UTC" — to the second, with the date when it is not today's (UTC). */
export function clock(at: Date, now: Date): string {
  const iso = at.toISOString();
  const time = `${iso.slice(11, 19)} UTC`;
  return iso.slice(0, 10) === now.toISOString().slice(0, 10) ? time : `${iso.slice(0, 10)} ${time}`;
}

export function decideFailure(i: HealthInput): HealthDecision {
  const p = i.policy ?? DEFAULT_RETRY_POLICY;
  const random = i.random ?? Math.random;
  const { failure: f } = i;
  // An XOAUTH2 rejection of a cached token: Google may have dropped it early; one refresh decides (issue 13 item 1).
  if (f.code === 'AUTH_FAILED' && i.auth === 'xoauth2' && !i.refreshedAfterAuthFailure)
    return { action: 'refresh-token' };

  const stopNow = STOP_NOW[f.code];
  if (stopNow) return stop(f, typeof stopNow === 'function' ? stopNow(i.auth) : stopNow);

  const n = i.retryCount + 1;
  if (n > p.retryLimit && STOP_AFTER_RETRIES[f.code]) return stop(f, STOP_AFTER_RETRIES[f.code], p.retryLimit);
  if (n > p.retryLimit && !f.transient) return stop(f, null, p.retryLimit);

  if (n <= p.retryLimit) {
    const nextAttemptAt = new Date(i.now.getTime() + backoffMs(n, p, random));
    const label = `retry ${n} of ${p.retryLimit}, next at ${clock(nextAttemptAt, i.now)}`;
    const alert: SyncAlert | null =
      n === 1
        ? {
            level: 'WARNING',
            code: f.code,
            message: `Synchronization was interrupted: ${f.message}. Mailroom will ${label}.`,
            hint: f.hint,
          }
        : null;
    return { action: 'retry', state: 'BACKING_OFF', retryCount: n, nextAttemptAt, label, incomingStatus: null, alert };
  }
  // Past the limit, transient trouble (network, Gmail unavailable) is still retried slowly: it ends on its own.
  const nextAttemptAt = new Date(i.now.getTime() + Math.round(p.slowMs * (0.75 + random() * 0.25)));
  const minutes = Math.round(p.slowMs / 60_000);
  const label = `retry ${n}, every ${minutes} min after ${p.retryLimit} failed retries, next at ${clock(nextAttemptAt, i.now)}`;
  const alert: SyncAlert | null =
    n === p.retryLimit + 1
      ? {
          level: 'ERROR',
          code: f.code,
          message: `Synchronization still fails after ${p.retryLimit} retries: ${f.message}. Mailroom keeps trying every ${minutes} minutes.`,
          hint: f.hint,
        }
      : null;
  return {
    action: 'retry',
    state: 'BACKING_OFF',
    retryCount: n,
    nextAttemptAt,
    label,
    incomingStatus: 'FAILURE',
    alert,
  };
}

function stop(f: SyncFailure, badge: Badge | null, afterRetries?: number): Extract<HealthDecision, { action: 'stop' }> {
  const after = afterRetries ? ` after ${afterRetries} retries` : '';
  const stoppedReason = `${f.code}: ${f.message}`;
  const next = badge ? ` ${WHAT[badge]}` : ' Select Test & Enable Mailbox to start it again.';
  return {
    action: 'stop',
    state: 'STOPPED',
    stoppedReason,
    incomingStatus: 'FAILURE',
    enabledForIncoming: false,
    badge,
    alert: {
      level: 'ERROR',
      code: f.code,
      message: `Incoming synchronization stopped${after} and the mailbox was disabled for incoming email: ${f.message}.${next}`,
      hint: f.hint,
    },
  };
}

/** The first good connection (or poll) after failures: back to normal, and say so once. */
export function decideRecovery(i: { retryCount: number; incomingStatus: string }): {
  retryCount: 0;
  incomingStatus: 'SUCCESS' | null;
  alert: SyncAlert | null;
} {
  if (i.retryCount === 0) return { retryCount: 0, incomingStatus: null, alert: null };
  const attempts = i.retryCount === 1 ? 'one failed attempt' : `${i.retryCount} failed attempts`;
  return {
    retryCount: 0,
    incomingStatus: i.incomingStatus === 'FAILURE' ? 'SUCCESS' : null,
    alert: { level: 'INFO', code: 'SYNC_RESUMED', message: `Synchronization resumed after ${attempts}.`, hint: '' },
  };
}

export const PROFILE_WINDOW_MS = 60 * 60_000;

export interface ProfileHealthInput {
  /** The profile's mailboxes: synchronizing now, and when each last failed (MailboxSync.lastErrorAt). */
  mailboxes: { syncing: boolean; lastFailureAt: Date | null }[];
  now: Date;
  /** When the profile last got this alert: one per hour at most. */
  lastAlertAt: Date | null;
}

/** More than half of a profile's mailboxes failed in the last hour → the profile shows an error alert. */
export function decideProfileHealth(i: ProfileHealthInput): {
  failing: boolean;
  failed: number;
  total: number;
  alert: SyncAlert | null;
} {
  const since = i.now.getTime() - PROFILE_WINDOW_MS;
  const recent = (m: ProfileHealthInput['mailboxes'][number]) =>
    m.lastFailureAt !== null && m.lastFailureAt.getTime() >= since;
  // A mailbox that failed and was stopped (so no longer synchronizes) still counts for the hour.
  const total = i.mailboxes.filter((m) => m.syncing || recent(m)).length;
  const failed = i.mailboxes.filter(recent).length;
  const failing = total > 0 && failed * 2 > total;
  const due = !i.lastAlertAt || i.lastAlertAt.getTime() < since;
  return {
    failing,
    failed,
    total,
    alert:
      failing && due
        ? {
            level: 'ERROR',
            code: 'PROFILE_MAILBOXES_FAILING',
            message: `${failed} of ${total} mailboxes of this profile failed to synchronize in the last hour.`,
            hint: "When most mailboxes of a profile fail together, the cause is usually shared: check the profile's server locations, ports and Google client, and the Alerts page for the mailboxes' errors.",
          }
        : null,
  };
}

export interface FailedMessageInfo {
  subject: string;
  fromAddress: string;
  imapUid?: bigint;
  pop3Uidl?: string;
  reason: string;
}

/** IMAP can move a message to Undeliverable when the profile says so; POP3 has no folders, so it stays. */
export function undeliverableAction(o: {
  moveFailedToUndeliverable: boolean;
  protocol: 'imap' | 'pop3';
}): 'move' | 'leave' {
  return o.moveFailedToUndeliverable && o.protocol === 'imap' ? 'move' : 'leave';
}

/** The warning alert naming a message that could not be processed, and where it is now. */
export function failedMessageAlert(m: FailedMessageInfo, outcome: 'moved' | 'left' | 'move-failed'): SyncAlert {
  const subject = m.subject ? `"${m.subject.slice(0, 200)}"` : '(no subject)';
  const from = m.fromAddress ? ` from ${m.fromAddress}` : '';
  const where =
    m.imapUid !== undefined ? ` (UID ${m.imapUid})` : m.pop3Uidl !== undefined ? ` (UIDL ${m.pop3Uidl})` : '';
  const place =
    outcome === 'moved'
      ? 'It was moved to the Undeliverable folder.'
      : outcome === 'move-failed'
        ? 'Moving it to the Undeliverable folder failed, so it was left where it is.'
        : 'It was left where it is.';
  return {
    level: 'WARNING',
    code: 'MESSAGE_NOT_PROCESSED',
    message: `The email ${subject}${from}${where} could not be processed: ${m.reason} ${place}`,
    hint:
      outcome === 'left'
        ? 'To move such messages aside automatically, set Move Failed Emails to Undeliverable in the email server profile (IMAP).'
        : '',
  };
}
