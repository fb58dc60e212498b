// The waiting part both semaphores share: one queue per process, served first come first served per key (a waiter
// blocked on a full key holds back later waiters for that key), woken on release, notification or a backstop timer.
import type { AcquireOptions, ConnectionSemaphore, Permit, SlotClaim } from './semaphore.ts';

export interface ResolvedClaim {
  key: string;
  limit: number;
}
export type Attempt = { permit: HeldPermit } | { full: string[] };

/** How often a waiter may ask a key's oldest yieldable holder to give way. */
const YIELD_ASK_MS = 5_000;

export class HeldPermit implements Permit {
  private listeners = new Set<() => void>();
  private released = false;
  readonly acquiredAt = Date.now();
  constructor(
    readonly keys: readonly string[],
    readonly yieldable: boolean,
    private readonly free: () => Promise<void>,
  ) {}

  onYieldRequested(listener: () => void): void {
    this.listeners.add(listener);
  }

  requestYield(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        /* a holder's listener must not break the requester */
      }
    }
  }

  get isReleased(): boolean {
    return this.released;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.listeners.clear();
    await this.free();
  }
}

interface Waiter {
  claims: SlotClaim[];
  opts: AcquireOptions;
  settled: boolean;
  askedAt: Map<string, number>;
  resolve(p: Permit): void;
  reject(e: unknown): void;
  cleanup(): void;
}

export function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error('The wait for a connection slot was cancelled.'), { name: 'AbortError' });
}

async function resolveClaims(claims: SlotClaim[]): Promise<ResolvedClaim[]> {
  const byKey = new Map<string, number>();
  for (const c of claims) {
    const limit = Math.max(0, Math.floor(typeof c.limit === 'function' ? await c.limit() : c.limit));
    byKey.set(c.key, Math.min(limit, byKey.get(c.key) ?? Infinity));
  }
  return [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, limit]) => ({ key, limit }));
}

export abstract class QueueingSemaphore implements ConnectionSemaphore {
  private queue: Waiter[] = [];
  private pumping = false;
  private again = false;
  private backstop: NodeJS.Timeout | undefined;
  protected closed = false;

  /** @param pollMs backstop re-check while anyone waits; null when every release is seen directly (one process). */
  constructor(private readonly pollMs: number | null) {}

  /** One atomic try: take a slot of every key, or report the full keys. */
  protected abstract attempt(claims: ResolvedClaim[], opts: AcquireOptions): Promise<Attempt>;
  /** Ask the oldest yieldable holder of a key to give way. */
  protected abstract askToYield(key: string): Promise<void>;
  abstract holders(key: string): Promise<number>;

  async acquire(claims: SlotClaim[], opts: AcquireOptions): Promise<Permit> {
    if (this.closed) throw new Error('The connection semaphore is closed.');
    if (opts.signal?.aborted) throw abortError(opts.signal);
    return new Promise<Permit>((resolve, reject) => {
      const w: Waiter = { claims, opts, settled: false, askedAt: new Map(), resolve, reject, cleanup: () => {} };
      const signal = opts.signal;
      if (signal) {
        const onAbort = () => this.settle(w, () => reject(abortError(signal)));
        signal.addEventListener('abort', onAbort, { once: true });
        w.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(w);
      void this.pump();
    });
  }

  async tryAcquire(claims: SlotClaim[], opts: AcquireOptions): Promise<Permit | null> {
    if (this.closed) throw new Error('The connection semaphore is closed.');
    const result = await this.attempt(await resolveClaims(claims), opts);
    return 'permit' in result ? result.permit : null;
  }

  async run<T>(claims: SlotClaim[], opts: AcquireOptions, fn: () => Promise<T>): Promise<T> {
    const permit = await this.acquire(claims, opts);
    try {
      return await fn();
    } finally {
      await permit.release();
    }
  }

  /** Something was freed (here or, via a notification, elsewhere): let the waiters for these keys try again. */
  protected wake(keys?: readonly string[]): void {
    if (!this.queue.length) return;
    if (keys && !this.queue.some((w) => w.claims.some((c) => keys.includes(c.key)))) return;
    void this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.backstop);
    for (const w of [...this.queue]) this.settle(w, () => w.reject(new Error('The connection semaphore is closed.')));
  }

  private settle(w: Waiter, finish: () => void): void {
    if (w.settled) return;
    w.settled = true;
    w.cleanup();
    this.queue = this.queue.filter((x) => x !== w);
    finish();
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    clearTimeout(this.backstop);
    try {
      do {
        this.again = false;
        const blocked = new Set<string>();
        for (const w of [...this.queue]) {
          if (w.settled || w.claims.some((c) => blocked.has(c.key))) continue;
          let result: Attempt;
          try {
            result = await this.attempt(await resolveClaims(w.claims), w.opts);
          } catch (e) {
            this.settle(w, () => w.reject(e));
            continue;
          }
          if ('permit' in result) {
            if (w.settled)
              await result.permit.release(); // cancelled while the attempt ran
            else this.settle(w, () => w.resolve(result.permit));
            continue;
          }
          for (const key of result.full) {
            blocked.add(key);
            const last = w.askedAt.get(key) ?? -Infinity;
            if (Date.now() - last >= YIELD_ASK_MS) {
              w.askedAt.set(key, Date.now());
              await this.askToYield(key).catch(() => undefined);
            }
          }
        }
      } while (this.again && !this.closed);
    } finally {
      this.pumping = false;
    }
    if (this.queue.length && this.pollMs !== null && !this.closed) {
      this.backstop = setTimeout(() => {
        void this.pump();
      }, this.pollMs);
      this.backstop.unref();
    }
  }
}
