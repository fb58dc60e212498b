// Sending as pg-boss jobs, the producer side every role has: the queue, its policy and the tuning. One job per email
// (payload: the email id only); the worker is ./send-worker.ts, the guarantee decision 020.
import type { QueueSpec } from '../jobs/boss.ts';

export const SEND_QUEUE = 'email-send';

export interface SendPayload {
  emailId: string;
}

export interface SendSettings {
  /** Retries after the first attempt for transient failures ("retry 2 of 5"). */
  retryLimit: number;
  /** Backoff base: attempt n waits base·2^(n-1), with jitter, capped at 30 min. */
  retryBaseMs: number;
  /** A job running longer than this is presumed dead: pg-boss hands it out again (the claim makes that harmless). */
  expireInSeconds: number;
  workers: number;
  pollingIntervalSeconds: number;
  /** How often SENDING emails of dead processes are marked Sent status unknown. */
  sweepMs: number;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
}

export const DEFAULT_SEND_SETTINGS: SendSettings = {
  retryLimit: 5,
  retryBaseMs: 30_000,
  expireInSeconds: 300,
  workers: 4,
  pollingIntervalSeconds: 1,
  sweepMs: 10_000,
};

export function sendQueues(settings: Pick<SendSettings, 'expireInSeconds'>): QueueSpec[] {
  // retryLimit: pg-boss's own retries serve crashes only; the email row's state decides whether anything is sent.
  return [
    {
      name: SEND_QUEUE,
      options: {
        policy: 'standard',
        retryLimit: 2,
        retryDelay: 1,
        expireInSeconds: settings.expireInSeconds,
        notify: true,
      },
    },
  ];
}

/** Exponential backoff with jitter in [d/2, d]: d = base·2^(attempt-1), capped. */
export function sendRetryDelayMs(attempt: number, baseMs: number, random = Math.random): number {
  const d = Math.min(30 * 60_000, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + random() * (d / 2));
}
