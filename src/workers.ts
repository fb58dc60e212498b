// startWorkers(deps): the worker role's half of a process: the pg-boss workers for Test & Enable (and its
// dead-letter queue) and the session sweeper on its schedule. Synchronization will start here too.
import type { AppDeps } from './deps.ts';
import { startSessionSweeper } from './auth/session-sweeper.ts';
import { credentialsFor } from './checks/credentials.ts';
import { startTestEnableWorkers } from './checks/worker.ts';

export interface WorkerOptions {
  /** Write the recurring schedules (the hourly session sweep). Tests leave them out. Default true. */
  schedules?: boolean;
}

export async function startWorkers(deps: AppDeps, opts: WorkerOptions = {}): Promise<void> {
  const { jobs, db, logger, checks } = deps;
  if (!jobs) throw new Error('startWorkers needs the job queue: build the deps with jobs');
  await jobs.ready;
  await startSessionSweeper(jobs.boss, { prisma: db.prisma, logger }, { schedule: opts.schedules !== false });
  await startTestEnableWorkers({
    prisma: db.prisma,
    jobs,
    logger,
    settings: checks,
    embedded: db.kind === 'pglite',
    env: {
      credentials: credentialsFor(deps.providers),
      protocols: deps.protocols,
      limiter: deps.limiter,
      ca: deps.mailTlsCa,
      connectTimeoutMs: checks.connectTimeoutMs,
      totalTimeoutMs: checks.totalTimeoutMs,
    },
  });
}
