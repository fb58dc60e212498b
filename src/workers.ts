// startWorkers(deps): the worker role's half of a process: this process's heartbeat row (the cluster, decision 012),
// the pg-boss workers for Test & Enable (its dead-letter queue and crash recovery), and the hourly session sweeper
// and Testing-status sign-in alerts, and incoming synchronization (the mailboxes this process owns, decision 013).
import type { AppDeps } from './deps.ts';
import { startSessionSweeper } from './auth/session-sweeper.ts';
import { startTestingSweep } from './gmail/testing-sweep.ts';
import { startImportWorker } from './imports/job.ts';
import { credentialsFor } from './checks/credentials.ts';
import { startTestEnableWorkers } from './checks/worker.ts';
import { drainLegacyQueue, startRecovery } from './checks/recovery.ts';
import { startCluster, type Cluster } from './cluster/start.ts';
import { startSendWorkers } from './emails/send-worker.ts';
import { DEFAULT_TIMING, type ClusterTiming } from './cluster/timing.ts';
import { startSyncEngine, type SyncEngine } from './sync/engine.ts';
import type { SyncSettings } from './sync/settings.ts';

export interface WorkerOptions {
  /** Write the recurring schedules (the hourly session sweep). Tests leave them out. Default true. */
  schedules?: boolean;
  /** Heartbeat timing (tests of crash recovery shorten it). */
  timing?: ClusterTiming;
  /** Incoming synchronization: false leaves it off (tests of other features); settings shorten its timers. */
  sync?: false | Partial<SyncSettings>;
}

export interface Workers {
  cluster: Cluster;
  /** The synchronization engine, when it runs here. */
  sync?: SyncEngine;
  /** Stops recovery and deregisters this process. Stop the job queue first, so running tests finish as this process's. */
  stop(): Promise<void>;
}

export async function startWorkers(deps: AppDeps, opts: WorkerOptions = {}): Promise<Workers> {
  const { jobs, db, logger, checks, config } = deps;
  if (!jobs) throw new Error('startWorkers needs the job queue: build the deps with jobs');
  await jobs.ready;
  const timing = opts.timing ?? DEFAULT_TIMING;
  const cluster = await startCluster(db, { role: config.role, timing, logger });
  await startSessionSweeper(jobs.boss, { prisma: db.prisma, logger }, { schedule: opts.schedules !== false });
  await startTestingSweep(jobs.boss, { prisma: db.prisma, logger }, { schedule: opts.schedules !== false });
  const boss = () => jobs.boss;
  await startImportWorker(jobs.boss, deps); // CSV imports of mailboxes (decision 019)
  await drainLegacyQueue({ prisma: db.prisma, boss, logger });
  // Embedded mode has one process by construction (the data-dir lock): whatever ran before this start is dead.
  const recovery = startRecovery(
    { prisma: db.prisma, boss, logger, registration: cluster.registration, timing },
    { othersDead: db.kind === 'pglite' },
  );
  await recovery.ready;
  const testWorkers = await startTestEnableWorkers({
    notifier: cluster.notifier,
    prisma: db.prisma,
    sql: db.raw,
    jobs,
    logger,
    settings: checks,
    processId: cluster.registration.id,
    env: {
      credentials: credentialsFor(deps.providers),
      protocols: deps.protocols,
      semaphore: cluster.semaphore,
      ca: deps.mailTlsCa,
      connectTimeoutMs: checks.connectTimeoutMs,
      totalTimeoutMs: checks.totalTimeoutMs,
    },
  });
  const sends = await startSendWorkers(
    {
      prisma: db.prisma,
      sql: db.raw,
      jobs,
      logger,
      providers: deps.providers,
      semaphore: cluster.semaphore,
      ca: deps.mailTlsCa,
      settings: deps.sends,
      processId: cluster.registration.id,
      timing,
    },
    { othersDead: db.kind === 'pglite' },
  );
  const sync =
    opts.sync === false || !config.syncEnabled
      ? undefined
      : await startSyncEngine({ db, logger, providers: deps.providers, mailTlsCa: deps.mailTlsCa }, cluster, {
          ...config.sync,
          ...opts.sync,
        });
  return {
    cluster,
    sync,
    stop: async () => {
      sends.stop();
      testWorkers.stop();
      recovery.stop();
      await cluster.stop();
    },
  };
}
