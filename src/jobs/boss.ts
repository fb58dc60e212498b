// pg-boss on the app's own database: PGlite's in-process backend when embedded, a pool of its own on
// PostgreSQL. Queue names and policies are declared here; handlers register through `work`.
import { PgBoss, fromPglite } from 'pg-boss';
import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';

export const QUEUES = {
  sweepSessions: 'maintenance-sweep-sessions',
  testMailbox: 'mailbox-test-enable',
} as const;

export interface Jobs {
  boss: PgBoss;
  /** Resolves once pg-boss is started and every queue and worker is registered; await before send(). */
  ready: Promise<void>;
  /** Feature modules add their queues and workers here; each runs once the queue has started. */
  register(setup: (boss: PgBoss) => Promise<void>): void;
  stop(): Promise<void>;
}

/** Starts pg-boss in the background so the web server need not wait for it; see Jobs.ready. */
export function createJobs(db: Database, logger: Logger, opts: { schedule?: boolean } = {}): Jobs {
  const boss = db.pglite
    ? new PgBoss({ db: fromPglite(db.pglite), backend: 'pglite', schema: 'pgboss' })
    : new PgBoss({ connectionString: db.databaseUrl!, schema: 'pgboss', max: 4 });
  boss.on('error', (err) => logger.error({ err }, 'job queue error'));
  const setups: Array<(b: PgBoss) => Promise<void>> = [async (b) => {
    await b.createQueue(QUEUES.sweepSessions, { policy: 'singleton' });
    await b.work(QUEUES.sweepSessions, async () => {
      const { count } = await db.prisma.session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
      logger.debug({ count }, 'expired sessions swept');
      return { count };
    });
    if (opts.schedule !== false) await b.schedule(QUEUES.sweepSessions, '17 * * * *');
  }];
  let started = false;
  const ready = (async () => {
    await new Promise((r) => setImmediate(r)); // let callers register() first
    await boss.start();
    started = true;
    for (const setup of setups) await setup(boss);
  })();
  ready.catch((err) => logger.error({ err }, 'job queue failed to start'));
  return {
    boss,
    ready,
    register: (setup) => {
      if (started) throw new Error('register() must be called before the job queue starts');
      setups.push(setup);
    },
    stop: async () => {
      await ready.catch(() => undefined);
      await boss.stop({ graceful: true, timeout: 10_000, close: true });
    },
  };
}

export async function startJobs(db: Database, logger: Logger, opts: { schedule?: boolean } = {}): Promise<Jobs> {
  const jobs = createJobs(db, logger, opts);
  await jobs.ready;
  return jobs;
}
