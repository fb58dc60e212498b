// pg-boss workers that start a queued job at once: the producer NOTIFYs a channel with the number of jobs it queued
// (on commit, so also from another process on PostgreSQL) and this wakes that many idle workers; a worker that has
// finished a job fetches the next one straight away. pg-boss's own LISTEN wakes every worker of a queue for each
// insert (C fetches racing for one job, each a statement on PGlite's one thread); its poll is kept as the backstop
// for jobs that become due later (retries) and for missed notifications (decision 021).
import type { Job, PgBoss } from 'pg-boss';
import { RESYNC, type Notifier } from '../cluster/notify.ts';

export interface WorkAtOnceOptions {
  boss: PgBoss;
  queue: string;
  /** How many jobs run at once in this process. */
  workers: number;
  pollingIntervalSeconds: number;
  /** Without one (tests that need none), workers only poll. */
  notifier?: Notifier;
  /** The channel request() NOTIFYs with the number of jobs queued. */
  channel: string;
}

export async function workAtOnce<T extends object>(
  o: WorkAtOnceOptions,
  handler: (job: Job<T>) => Promise<void>,
): Promise<{ stop(): void }> {
  const ids: string[] = [];
  const busy = new Set<string>();
  let start = 0;
  /** Wakes up to n workers that are not running a job (waking one that is fetching only makes it fetch again). */
  const wake = (n: number) => {
    for (let k = 0; k < ids.length && n > 0; k++) {
      const id = ids[(start + k) % ids.length];
      if (busy.has(id)) continue;
      o.boss.notifyWorker(id);
      n--;
    }
    start = (start + 1) % Math.max(1, ids.length);
  };
  const poll = o.pollingIntervalSeconds;
  for (let i = 0; i < o.workers; i++) {
    // One worker per work() call, so each knows its own id (pg-boss's localConcurrency hides them).
    const self: { id?: string } = {};
    self.id = await o.boss.work<T>(
      o.queue,
      { pollingIntervalSeconds: poll, notifyPollingIntervalSeconds: poll },
      async ([job]) => {
        const id = self.id;
        if (id) busy.add(id);
        try {
          await handler(job);
        } finally {
          if (id) {
            busy.delete(id);
            o.boss.notifyWorker(id); // fetch the next job now, not after the poll interval
          }
        }
      },
    );
    ids.push(self.id);
  }
  const unlisten = o.notifier
    ? await o.notifier.listen(o.channel, (payload) =>
        wake(payload === RESYNC ? ids.length : Math.max(1, Number.parseInt(payload, 10) || 1)),
      )
    : undefined;
  return { stop: () => unlisten?.() };
}
