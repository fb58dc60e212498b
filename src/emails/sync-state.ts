// What the mailbox record and list say about a mailbox's incoming synchronization (MailboxSync, written by the sync
// engine): Connected (IDLE), Polling every N min, Backing off until … (retry k of n), Stopped with the reason and what
// to do, or Not synchronized. Pure: the record and the list hand in what they read.
import type { CheckStatus, ServerType, SyncMethod, SyncState } from '../generated/prisma/client.ts';
import { clock, DEFAULT_RETRY_POLICY } from '../sync/health.ts';
import { timeLabel } from './labels.ts';

export interface SyncRow {
  state: SyncState;
  retryCount: number;
  nextAttemptAt: Date | null;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  lastErrorHint: string | null;
  lastErrorAt: Date | null;
  stoppedReason: string | null;
  lastMessageAt: Date | null;
  messagesSynced: number;
  syncFrom: Date | null;
  firstSyncDoneAt: Date | null;
}

export interface SyncMailbox {
  incomingEmail: SyncMethod;
  enabledForIncoming: boolean;
  profile: { serverType: ServerType; minPollingIntervalMinutes: number } | null;
}

export interface SyncStateView {
  label: string;
  /** Badge colour: success, pending, failure or none. */
  tone: string;
  detail: string | null;
  hint: string | null;
}

const pollMinutes = (m: SyncMailbox) => Math.max(1, m.profile?.minPollingIntervalMinutes ?? 1);
const error = (s: SyncRow) => (s.lastErrorCode ? `${s.lastErrorCode}: ${s.lastErrorMessage ?? ''}`.trim() : null);

export function syncState(m: SyncMailbox, s: SyncRow | null, now = new Date()): SyncStateView {
  if (m.incomingEmail !== 'SERVER_SIDE_SYNC')
    return {
      label: 'Not synchronized',
      tone: 'none',
      detail: 'Incoming Email is not Server-Side Synchronization.',
      hint: null,
    };
  // A failure that stopped synchronization also disabled the mailbox for incoming: say why before "not enabled".
  if (s?.state === 'STOPPED' && s.stoppedReason)
    return { label: 'Stopped', tone: 'failure', detail: s.stoppedReason, hint: s.lastErrorHint || null };
  if (!m.enabledForIncoming)
    return {
      label: 'Not synchronized',
      tone: 'none',
      detail: 'The mailbox is not enabled for incoming email.',
      hint: 'Select Test & Enable Mailbox to enable it.',
    };
  const waiting = {
    label: 'Not started yet',
    tone: 'none',
    detail: 'Waiting for a worker process to start it.',
    hint: null,
  };
  if (!s) return waiting;
  const pop3 = m.profile?.serverType === 'POP3';
  switch (s.state) {
    case 'CONNECTED':
      return pop3
        ? { label: `Polling every ${pollMinutes(m)} min`, tone: 'success', detail: null, hint: null }
        : {
            label: 'Connected (IDLE)',
            tone: 'success',
            detail: 'New mail arrives as soon as Gmail announces it.',
            hint: null,
          };
    case 'POLLING':
      return pop3
        ? { label: `Polling every ${pollMinutes(m)} min`, tone: 'success', detail: null, hint: null }
        : {
            label: 'Polling',
            tone: 'pending',
            detail: "The profile's Maximum Concurrent Connections is reached, so this mailbox takes turns connecting.",
            hint: 'Raise Maximum Concurrent Connections on the email server profile above its number of enabled mailboxes.',
          };
    case 'WAITING':
      return {
        label: 'Waiting for a connection',
        tone: 'pending',
        detail: "It connects as soon as the profile's or Gmail's connection limit allows.",
        hint: null,
      };
    case 'STARTING':
      return { label: 'Starting', tone: 'pending', detail: null, hint: null };
    case 'BACKING_OFF': {
      const limit = DEFAULT_RETRY_POLICY.retryLimit;
      const retry = s.retryCount > limit ? `retry ${s.retryCount}` : `retry ${s.retryCount} of ${limit}`;
      const until = s.nextAttemptAt ? `Backing off until ${clock(s.nextAttemptAt, now)}` : 'Backing off';
      return {
        label: `${until} (${retry})`,
        tone: s.retryCount > limit ? 'failure' : 'pending',
        detail: error(s),
        hint: s.lastErrorHint || null,
      };
    }
    default:
      return waiting; // STOPPED without a reason: released, and no worker has taken it yet
  }
}

/** The record's Incoming Synchronization panel, without the latest emails (see mailbox-panel.ts). */
export function syncPanel(m: SyncMailbox, s: SyncRow | null, now = new Date()) {
  return {
    state: syncState(m, s, now),
    lastMessageAt: timeLabel(s?.lastMessageAt ?? null, true),
    messagesSynced: (s?.messagesSynced ?? 0).toLocaleString('en-US'),
    firstSync:
      s?.syncFrom && !s.firstSyncDoneAt
        ? `In progress: older mail back to ${timeLabel(s.syncFrom)} is being fetched (new mail is not held up).`
        : null,
    lastError:
      s?.lastErrorCode && s.state !== 'STOPPED' && s.state !== 'BACKING_OFF'
        ? { text: error(s), at: timeLabel(s.lastErrorAt, true) }
        : null,
  };
}

/** The mailbox list's badge next to Incoming Email Status; null when there is nothing to flag. */
export function syncBadge(m: {
  incomingStatus: CheckStatus;
  sync: { state: SyncState; stoppedReason: string | null } | null;
}): { label: string; tone: string; title: string } | null {
  const s = m.sync;
  // Once Test & Enable succeeds again the old stop no longer matters, even before the engine clears its reason.
  if (s?.state === 'STOPPED' && s.stoppedReason && m.incomingStatus === 'FAILURE')
    return { label: 'Sync stopped', tone: 'failure', title: s.stoppedReason };
  if (s?.state === 'BACKING_OFF')
    return { label: 'Sync retrying', tone: 'pending', title: 'Synchronization failed and is being retried.' };
  return null;
}
