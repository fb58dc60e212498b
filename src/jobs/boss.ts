// pg-boss on the app's own database: PGlite's in-process backend when embedded, a pool of its own on PostgreSQL.
// This is the producer side every role has: pg-boss started and the declared queues created, so any process can send
// jobs. Workers are added by startWorkers (src/workers.ts) only in processes that run them.
import { PgBoss, fromPglite, type Queue } from 'pg-boss';
import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';

export const QUEUES = {
  sweepSessions: 'maintenance-sweep-sessions',
} as const;

/** A queue and its policy, created (if missing) when the job queue starts, in the order given. */
export interface QueueSpec {
  name: string;
  options: Omit<Queue, 'name'>;
}

export interface Jobs {
  boss: PgBoss;
  /** Resolves once pg-boss is started and every declared queue exists; await before send() or work(). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export interface JobOptions {
  queues: readonly QueueSpec[];
  /**
   * Whether this process runs pg-boss's maintenance and cron (expiring jobs, firing schedules). A web-only process
   * only sends, so it leaves both to the worker processes.
   */
  supervise: boolean;
}

/** Starts pg-boss in the background so the web server need not wait for it; see Jobs.ready. */
export function createJobs(db: Database, logger: Logger, opts: JobOptions): Jobs {
  const roles = { supervise: opts.supervise, schedule: opts.supervise };
  const boss = db.pglite
    ? new PgBoss({ db: fromPglite(db.pglite), backend: 'pglite', schema: 'pgboss', ...roles })
    : new PgBoss({ connectionString: db.databaseUrl!, schema: 'pgboss', max: 4, ...roles });
  boss.on('error', (err) => logger.error({ err }, 'job queue error'));
  const ready = (async () => {
    await boss.start();
    for (const q of opts.queues) await boss.createQueue(q.name, q.options);
  })();
  ready.catch((err) => logger.error({ err }, 'job queue failed to start'));
  return {
    boss,
    ready,
    stop: async () => {
      await ready.catch(() => undefined);
      await boss.stop({ graceful: true, timeout: 10_000, close: true });
    },
  };
}
