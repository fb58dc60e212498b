// A counting gate, first come first served: at most `limit` callers inside at once. The database uses one to bound
// the bulk writes of synchronization (ingest) below the pool size, so the heartbeat, ownership renewals, jobs and
// pages always find a free connection (decision 025).
export class Gate {
  private inside = 0;
  private readonly queue: (() => void)[] = [];
  private head = 0;

  constructor(readonly limit: number) {}

  /** Callers inside now, and waiting. */
  get stats(): { inside: number; waiting: number } {
    return { inside: this.inside, waiting: this.queue.length - this.head };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inside >= this.limit) {
      await new Promise<void>((r) => this.queue.push(r));
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
    } else this.inside++;
    try {
      return await fn();
    } finally {
      const next = this.head < this.queue.length ? this.queue[this.head++] : undefined;
      if (next)
        next(); // the slot passes straight to the next caller
      else this.inside--;
    }
  }
}
