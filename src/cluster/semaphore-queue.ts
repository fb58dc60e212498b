// The waiting part both semaphores share: one queue per process, served first come first served per key (a waiter
// blocked on a full key holds back later waiters for that key), woken on release, notification or a backstop timer.
import type { AcquireOptions, ConnectionSemaphore, Permit, SlotClaim } from './semaphore.ts';

export interface ResolvedClaim {
  key: string;
  limit: number;
}
export type Attempt = { permit: HeldPermit } | { full: string[] };
/** One waiter's try within a batch (attemptMany): `behind` when an earlier one in the batch found a key full. */
export type BatchAttempt = Attempt | { full: string[]; behind: true };
/** Waiters tried in one batch (one transaction on PostgreSQL). */
export const BATCH_MAX = 64;

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
  /** Arrival order: a pass tries its waiters in it. */
  seq: number;
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
  private arrivals = 0;
  private pumping = false;
  private backstop: NodeJS.Timeout | undefined;
  protected closed = false;
  /** Counters for tests and diagnostics: attempts made for waiters, limit functions read by passes. */
  readonly stats = { attempts: 0, limitReads: 0, passes: 0 };

  /** @param pollMs backstop re-check while anyone waits; null when every release is seen directly (one process). */
  constructor(private readonly pollMs: number | null) {}

  /** One atomic try: take a slot of every key, or report the full keys. */
  protected abstract attempt(claims: ResolvedClaim[], opts: AcquireOptions): Promise<Attempt>;
  /**
   * Several tries at once, in order, as if made one after another: a try behind one that found a key full is not made
   * (it would wait behind it anyway). PostgreSQL overrides this with one transaction for the whole batch: at
   * concurrency 50 one try per transaction serialized every Test & Enable job's three acquires (decision 030).
   */
  protected async attemptMany(batch: { claims: ResolvedClaim[]; opts: AcquireOptions }[]): Promise<BatchAttempt[]> {
    const full = new Set<string>();
    const out: BatchAttempt[] = [];
    for (const b of batch) {
      const behind = b.claims.filter((c) => full.has(c.key)).map((c) => c.key);
      if (behind.length) {
        out.push({ full: behind, behind: true });
        continue;
      }
      const r = await this.attempt(b.claims, b.opts);
      if ('full' in r) for (const key of r.full) full.add(key);
      out.push(r);
    }
    return out;
  }
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
      const w: Waiter = {
        seq: this.arrivals++,
        claims,
        keys,
        opts,
        settled: false,
        askedAt: new Map(),
        resolve,
        reject,
        cleanup: () => {},
      };
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

  /**
   * One pass over the waiters of the woken keys (or everything), in arrival order, in batches: a waiter behind one
   * that found a key full is not tried (it waits behind it).
   */
  private async pass(): Promise<void> {
    this.stats.passes++;
    const limits = new Map<string, Promise<number>>();
    const read = (claims: SlotClaim[]) => {
      for (const c of claims) if (typeof c.limit === 'function' && !limits.has(c.key)) this.stats.limitReads++;
      return resolveClaims(claims, limits);
    };
    let candidates: Waiter[];
    if (this.everything) {
      // Everything (backstop): the whole queue in arrival order, which tries at most one waiter per full key.
      this.everything = false;
      this.dirty.clear();
      this.full.clear();
      candidates = [...this.waiting];
    } else {
      const seen = new Set<Waiter>();
      for (const key of this.dirty) for (const w of this.byKey.get(key) ?? []) seen.add(w);
      this.dirty.clear();
      candidates = [...seen].sort((a, b) => a.seq - b.seq);
    }
    const blocked = (w: Waiter) => w.keys.some((k) => this.full.has(k));
    let batch: Waiter[] = [];
    for (const w of candidates) {
      if (this.closed) return;
      if (w.settled || blocked(w)) continue;
      batch.push(w);
      if (batch.length >= BATCH_MAX) {
        await this.tryBatch(batch, read);
        batch = [];
      }
    }
    if (batch.length && !this.closed) await this.tryBatch(batch, read);
  }

  private async tryBatch(ws: Waiter[], read: (claims: SlotClaim[]) => Promise<ResolvedClaim[]>): Promise<void> {
    const startedAt = this.clock;
    let results: BatchAttempt[];
    const live: Waiter[] = [];
    const tries: { claims: ResolvedClaim[]; opts: AcquireOptions }[] = [];
    for (const w of ws) {
      try {
        tries.push({ claims: await read(w.claims), opts: w.opts });
        live.push(w);
      } catch (e) {
        this.settle(w, () => w.reject(e));
      }
    }
    try {
      results = tries.length ? await this.attemptMany(tries) : [];
    } catch (e) {
      for (const w of live) this.settle(w, () => w.reject(e));
      return;
    }
    for (let i = 0; i < live.length; i++) {
      const w = live[i];
      const result = results[i];
      if ('behind' in result) continue;
      this.stats.attempts++;
      if ('permit' in result) {
        if (w.settled)
          await result.permit.release(); // cancelled while the attempt ran
        else this.settle(w, () => w.resolve(result.permit));
        continue;
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
}
