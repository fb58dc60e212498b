// Timers and limits of the synchronization engine (decision 013). Production uses the defaults; tests shorten the
// polling interval, the safety check and the backoff through startWorkers' `sync` option.
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './health.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from './parse.ts';

export interface SyncSettings {
  /** A UID FETCH of new mail this often even while IDLE reports nothing (lost notifications, NAT timeouts). */
  safetyCheckMs: number;
  /** IDLE is re-issued at least this often (Gmail cuts IDLE after ~29 min). */
  maxIdleMs: number;
  /** Refresh the access token this long before it expires while connected. */
  refreshAheadMs: number;
  /** POP3: the shortest polling interval whatever the profile says (production: 1 min). */
  minPollMs: number;
  /** POP3: overrides the profile's Minimum Polling Interval (tests). */
  pollMs?: number;
  /** A yield request is honoured once the connection has been held this long (so rotation still makes progress). */
  minHoldMs: number;
  /** The first synchronization fetches at most this many messages / bytes between two IDLE periods. */
  batchMessages: number;
  batchBytes: number;
  maxMessageBytes: number;
  connectTimeoutMs: number;
  /** A dropped connection is re-opened at once (not counted as a failure) at most this often. */
  quickReconnectMs: number;
  retry: RetryPolicy;
}

export const DEFAULT_SYNC_SETTINGS: SyncSettings = {
  safetyCheckMs: 2 * 60_000,
  maxIdleMs: 25 * 60_000,
  refreshAheadMs: 5 * 60_000,
  minPollMs: 60_000,
  minHoldMs: 10_000,
  batchMessages: 200,
  batchBytes: 25 * 1024 * 1024,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  connectTimeoutMs: 30_000,
  quickReconnectMs: 60_000,
  retry: DEFAULT_RETRY_POLICY,
};

export function syncSettings(o: Partial<SyncSettings> = {}): SyncSettings {
  return { ...DEFAULT_SYNC_SETTINGS, ...o };
}
