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
  /** The distinct keys of the claims. */
  keys: string[];
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

/** A claim's limit, a function's read at most once per key per pass (`limits`), so a pass costs one read per key. */
async function resolveClaims(claims: SlotClaim[], limits?: Map<string, Promise<number>>): Promise<ResolvedClaim[]> {
  const byKey = new Map<string, number>();
  for (const c of claims) {
    let raw: number;
    if (typeof c.limit !== 'function') raw = c.limit;
    else if (limits) {
      let p = limits.get(c.key);
      if (!p) {
        p = Promise.resolve().then(c.limit as () => number | Promise<number>);
        limits.set(c.key, p);
      }
      raw = await p;
    } else raw = await c.limit();
    const limit = Math.max(0, Math.floor(raw));
    byKey.set(c.key, Math.min(limit, byKey.get(c.key) ?? Infinity));
  }
  return [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, limit]) => ({ key, limit }));
}

/**
 * Waiting that stays cheap with thousands of waiters (decision 025): one FIFO per key (a JavaScript Set keeps insertion
 * order and deletes in O(1)), a release wakes only its keys, a pass tries a key's waiters in order and stops at the
 * first one that finds the key full (the rest are behind it), a key known full is not tried again until something
 * wakes it, and a claim's limit function is read once per key per pass.
 */
export abstract class QueueingSemaphore implements ConnectionSemaphore {
  /** Every waiter, oldest first. */
  private waiting = new Set<Waiter>();
  /** The waiters of each key, oldest first. */
  private byKey = new Map<string, Set<Waiter>>();
  /** Keys to try in the next pass; `everything` asks for all of them (backstop, resync). */
  private dirty = new Set<string>();
  private everything = false;
  /** Keys found full since they were last woken: their waiters are not tried. */
  private full = new Set<string>();
  /** When each key was last woken (a tick of `clock`): a key woken while an attempt ran is not marked full by it. */
  private wokenAt = new Map<string, number>();
  private clock = 0;
  private pumping = false;
  private backstop: NodeJS.Timeout | undefined;
  protected closed = false;
  /** Counters for tests and diagnostics: attempts made for waiters, limit functions read by passes. */
  readonly stats = { attempts: 0, limitReads: 0, passes: 0 };

  /** @param pollMs backstop re-check while anyone waits; null when every release is seen directly (one process). */
  constructor(private readonly pollMs: number | null) {}

  /** One atomic try: take a slot of every key, or report the full keys. */
  protected abstract attempt(claims: ResolvedClaim[], opts: AcquireOptions): Promise<Attempt>;
  /** Ask the oldest yieldable holder of a key to give way. */
  protected abstract askToYield(key: string): Promise<void>;
  abstract holders(key: string): Promise<number>;

  /** Waiters queued now. */
  get waiters(): number {
    return this.waiting.size;
  }

  /** A pass is running (tests wait for it to end before reading `stats`). */
  get busy(): boolean {
    return this.pumping;
  }

  async acquire(claims: SlotClaim[], opts: AcquireOptions): Promise<Permit> {
    if (this.closed) throw new Error('The connection semaphore is closed.');
    if (opts.signal?.aborted) throw abortError(opts.signal);
    return new Promise<Permit>((resolve, reject) => {
      const keys = [...new Set(claims.map((c) => c.key))];
      const w: Waiter = { claims, keys, opts, settled: false, askedAt: new Map(), resolve, reject, cleanup: () => {} };
      const signal = opts.signal;
      if (signal) {
        const onAbort = () => this.settle(w, () => reject(abortError(signal)));
        signal.addEventListener('abort', onAbort, { once: true });
        w.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.waiting.add(w);
      for (const key of keys) {
        let q = this.byKey.get(key);
        if (!q) {
          q = new Set();
          this.byKey.set(key, q);
          this.full.delete(key);
        }
        q.add(w);
        // A key known full needs no try: this waiter is behind one that already found it full.
        if (!this.full.has(key)) this.dirty.add(key);
      }
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

  /** Something was freed (here or, via a notification, elsewhere): let the waiters for these keys try again.
   *  Without keys (backstop, lost notifications): every key. */
  protected wake(keys?: readonly string[]): void {
    if (!this.waiting.size) return;
    this.clock++;
    if (!keys) this.everything = true;
    else {
      let any = false;
      for (const key of keys) {
        this.full.delete(key);
        if (this.byKey.has(key)) {
          this.wokenAt.set(key, this.clock);
          this.dirty.add(key);
          any = true;
        }
      }
      if (!any) return;
    }
    void this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.backstop);
    for (const w of [...this.waiting]) this.settle(w, () => w.reject(new Error('The connection semaphore is closed.')));
  }

  private settle(w: Waiter, finish: () => void): void {
    if (w.settled) return;
    w.settled = true;
    w.cleanup();
    this.waiting.delete(w);
    for (const key of w.keys) {
      const q = this.byKey.get(key);
      if (!q) continue;
      q.delete(w);
      if (!q.size) {
        this.byKey.delete(key);
        this.full.delete(key);
        this.dirty.delete(key);
        this.wokenAt.delete(key);
      }
    }
    finish();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return; // the running pass picks up what was marked meanwhile
    this.pumping = true;
    clearTimeout(this.backstop);
    try {
      while (!this.closed && (this.everything || this.dirty.size)) await this.pass();
    } finally {
      this.pumping = false;
    }
    if (this.waiting.size && this.pollMs !== null && !this.closed) {
      this.backstop = setTimeout(() => this.wake(), this.pollMs);
      this.backstop.unref();
    }
  }

  /** One pass over the woken keys (or everything), each key's waiters in order. */
  private async pass(): Promise<void> {
    this.stats.passes++;
    const limits = new Map<string, Promise<number>>();
    const read = (claims: SlotClaim[]) => {
      for (const c of claims) if (typeof c.limit === 'function' && !limits.has(c.key)) this.stats.limitReads++;
      return resolveClaims(claims, limits);
    };
    const tried = new Set<Waiter>();
    const blocked = (w: Waiter) => w.keys.some((k) => this.full.has(k));
    // Everything (backstop): the whole queue in arrival order, which tries at most one waiter per full key.
    if (this.everything) {
      this.everything = false;
      this.dirty.clear();
      this.full.clear();
      for (const w of [...this.waiting]) {
        if (this.closed) return;
        if (w.settled || blocked(w)) continue;
        tried.add(w);
        await this.tryWaiter(w, read);
      }
      return;
    }
    const keys = [...this.dirty];
    this.dirty.clear();
    for (const key of keys) {
      for (const w of [...(this.byKey.get(key) ?? [])]) {
        if (this.closed || this.full.has(key)) break; // everyone after is behind a waiter that found it full
        if (w.settled || tried.has(w) || blocked(w)) continue;
        tried.add(w);
        await this.tryWaiter(w, read);
      }
    }
  }

  private async tryWaiter(w: Waiter, read: (claims: SlotClaim[]) => Promise<ResolvedClaim[]>): Promise<void> {
    let result: Attempt;
    this.stats.attempts++;
    const startedAt = this.clock;
    try {
      result = await this.attempt(await read(w.claims), w.opts);
    } catch (e) {
      this.settle(w, () => w.reject(e));
      return;
    }
    if ('permit' in result) {
      if (w.settled)
        await result.permit.release(); // cancelled while the attempt ran
      else this.settle(w, () => w.resolve(result.permit));
      return;
    }
    for (const key of result.full) {
      // Freed while we counted (a release or notification came in meanwhile): it is in the next pass already.
      if (!this.everything && (this.wokenAt.get(key) ?? 0) <= startedAt) this.full.add(key);
      const last = w.askedAt.get(key) ?? -Infinity;
      if (Date.now() - last >= YIELD_ASK_MS) {
        w.askedAt.set(key, Date.now());
        await this.askToYield(key).catch(() => undefined);
      }
    }
  }
}
