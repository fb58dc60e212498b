// How tests wait on a busy machine: poll for the condition with a generous deadline, and give probes time (decision 010).
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Probe timeouts for tests that are not about timeouts. A loaded 2-core machine can starve a loopback TLS
 * handshake for seconds; a short timeout then turns a healthy server into a transient TIMEOUT and a retry.
 */
export const PATIENT_PROBES = { connectTimeoutMs: 30_000, totalTimeoutMs: 60_000 } as const;

/** Deadline of a wait: long enough for any healthy run on a busy machine, shorter than a test file's 420 s timeout (scripts/test.mjs). */
export const WAIT_MS = 120_000;

/**
 * Polls `check` until it returns something other than undefined (errors count as "not yet"), then returns it.
 * Throws after `timeoutMs` naming `what`, with the last error if there was one.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  o: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const end = Date.now() + (o.timeoutMs ?? WAIT_MS);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await sleep(o.intervalMs ?? 100);
  }
}
