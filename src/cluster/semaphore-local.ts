// The connection semaphore for embedded PGlite: one process by construction, so counting in memory is exact and
// costs no SQL per connection (PGlite spends ~1–2 ms of main-thread CPU per statement).
import type { AcquireOptions } from './semaphore.ts';
import { HeldPermit, QueueingSemaphore, type Attempt, type ResolvedClaim } from './semaphore-queue.ts';

export class LocalSemaphore extends QueueingSemaphore {
  private held = new Map<string, Set<HeldPermit>>();

  /** Every release happens here and wakes waiters at once; the timer only repeats the yield requests of long waits. */
  constructor(pollMs = 1_000) {
    super(pollMs);
  }

  protected async attempt(claims: ResolvedClaim[], opts: AcquireOptions): Promise<Attempt> {
    const full = claims.filter((c) => (this.held.get(c.key)?.size ?? 0) >= c.limit).map((c) => c.key);
    if (full.length) return { full };
    const keys = claims.map((c) => c.key);
    const permit: HeldPermit = new HeldPermit(keys, opts.yieldable ?? false, async () => {
      for (const key of keys) {
        const set = this.held.get(key);
        set?.delete(permit);
        if (set && !set.size) this.held.delete(key);
      }
      this.wake(keys);
    });
    for (const key of keys) {
      const set = this.held.get(key) ?? new Set();
      set.add(permit);
      this.held.set(key, set);
    }
    return { permit };
  }

  protected async askToYield(key: string): Promise<void> {
    let oldest: HeldPermit | undefined;
    for (const p of this.held.get(key) ?? [])
      if (p.yieldable && (!oldest || p.acquiredAt < oldest.acquiredAt)) oldest = p;
    oldest?.requestYield();
  }

  async holders(key: string): Promise<number> {
    return this.held.get(key)?.size ?? 0;
  }
}
