// Counting semaphores keyed by name: the global cap on mailbox tests and each profile's
// Maximum Concurrent Connections. In-process; each process enforces its own share.
export class KeyedLimiter {
  private active = new Map<string, number>();
  private waiting = new Map<string, Array<() => void>>();

  async run<T>(key: string, limit: number, fn: () => Promise<T>): Promise<T> {
    await this.acquire(key, Math.max(1, limit));
    try {
      return await fn();
    } finally {
      this.release(key);
    }
  }

  private acquire(key: string, limit: number): Promise<void> {
    const n = this.active.get(key) ?? 0;
    if (n < limit) {
      this.active.set(key, n + 1);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const q = this.waiting.get(key) ?? [];
      q.push(() => {
        this.active.set(key, (this.active.get(key) ?? 0) + 1);
        resolve();
      });
      this.waiting.set(key, q);
    });
  }

  private release(key: string): void {
    this.active.set(key, (this.active.get(key) ?? 1) - 1);
    const next = this.waiting.get(key)?.shift();
    if (next) next();
    else if (!this.active.get(key)) {
      this.active.delete(key);
      this.waiting.delete(key);
    }
  }

  inUse(key: string): number {
    return this.active.get(key) ?? 0;
  }
}

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
