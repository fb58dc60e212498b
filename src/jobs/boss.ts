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
  stop(): Promise<void>;
}

export async function startJobs(db: Database, logger: Logger, opts: { schedule?: boolean } = {}): Promise<Jobs> {
  const boss = db.pglite
    ? new PgBoss({ db: fromPglite(db.pglite), backend: 'pglite', schema: 'pgboss' })
    : new PgBoss({ connectionString: db.databaseUrl!, schema: 'pgboss', max: 4 });
  boss.on('error', (err) => logger.error({ err }, 'job queue error'));
  await boss.start();
  await boss.createQueue(QUEUES.sweepSessions, { policy: 'singleton' });
  await boss.work(QUEUES.sweepSessions, async () => {
    const { count } = await db.prisma.session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    logger.debug({ count }, 'expired sessions swept');
    return { count };
  });
  if (opts.schedule !== false) await boss.schedule(QUEUES.sweepSessions, '17 * * * *');
  return {
    boss,
    stop: async () => { await boss.stop({ graceful: true, timeout: 10_000, close: true }); },
  };
}
