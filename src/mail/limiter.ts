// One holder at a time per key, in this process (one token refresh per mailbox). Connection budgets are counted
// across processes by the cluster's semaphore (src/cluster/semaphore.ts), not here.
/** One holder at a time per key (e.g. one token refresh per mailbox). */
export class KeyedMutex {
  private tails = new Map<string, Promise<unknown>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.catch(() => undefined).then(fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
