// Test & Enable runs whose process died: found by the runner's heartbeat (decision 012's WorkerProcess rows) and run
// again at once, on every live worker's heartbeat pass and at start-up, instead of waiting for pg-boss's expiry
// (decision 015). A run is taken only from a process whose heartbeat went stale, never from a live one; and the
// jobs of decision 005's stately queue are moved over when a worker starts.
import { fromPrisma, type PgBoss } from 'pg-boss';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import { aliveSql } from '../cluster/liveness.ts';
import { deadAfterSeconds, type ClusterTiming } from '../cluster/timing.ts';
import type { ProcessRegistration } from '../cluster/registry.ts';
import { LEGACY_TEST_QUEUE, TEST_QUEUE } from './job.ts';

export interface RecoveryDeps {
  prisma: PrismaClient;
  boss: () => PgBoss;
  logger: Logger;
  registration: Pick<ProcessRegistration, 'id' | 'leaseValid'>;
  timing: ClusterTiming;
}

export interface RecoveryOptions {
  /**
   * Every other process is known to be dead: embedded PGlite at start-up (one process per data directory, by its
   * lock file), where a killed predecessor's heartbeat may still look fresh.
   */
  othersDead?: boolean;
}

interface StuckJob {
  id: string;
  retry_count: number;
}

/**
 * One pass. (1) RUNNING runs whose runner is not alive go back to QUEUED. (2) Their jobs, and jobs a dead process
 * fetched but never claimed a run with (active longer than the dead-after bound while their run is still QUEUED), are
 * failed at the attempt seen here, so pg-boss hands them to any live worker within a second. A job's handler claims
 * its run again; a late write of the old runner is refused (worker.ts). Returns how many runs were resumed.
 */
export async function recoverOrphans(d: RecoveryDeps, o: RecoveryOptions = {}): Promise<number> {
  const othersDead = o.othersDead === true;
  const dead = deadAfterSeconds(d.timing);
  return d.prisma.$transaction(async (tx) => {
    const resumed = await tx.$queryRawUnsafe<Array<{ jobId: string }>>(
      `UPDATE "TestRun" r SET status = 'QUEUED', "runnerProcessId" = NULL
       WHERE r.status = 'RUNNING' AND r."jobId" IS NOT NULL AND r."runnerProcessId" IS DISTINCT FROM $1
         AND ($2::boolean OR NOT EXISTS (
           SELECT 1 FROM "WorkerProcess" w WHERE w.id = r."runnerProcessId" AND ${aliveSql('w', '$3')}))
       RETURNING r."jobId"`,
      d.registration.id,
      othersDead,
      dead,
    );
    const jobs = await tx.$queryRawUnsafe<StuckJob[]>(
      `SELECT j.id::text AS id, j.retry_count FROM pgboss.job j
       WHERE j.name = $1 AND j.state = 'active'
         AND (j.id::text = ANY($2::text[])
           OR (($3::boolean OR j.started_on < now() - make_interval(secs => $4::float8))
             AND EXISTS (SELECT 1 FROM "TestRun" r WHERE r."jobId" = j.id::text AND r.status = 'QUEUED')))`,
      TEST_QUEUE,
      resumed.map((r) => r.jobId),
      othersDead,
      dead,
    );
    if (jobs.length)
      await d.boss().fail(
        TEST_QUEUE,
        jobs.map((j) => ({ id: j.id, retryCount: Number(j.retry_count) })),
        { message: 'the process running this test stopped' },
        { db: fromPrisma(tx) },
      );
    const count = Math.max(resumed.length, jobs.length);
    if (count) d.logger.warn({ count }, 'mailbox tests interrupted by a crash will run again');
    return count;
  });
}

/** Recovery at start-up (resumes what the dead left at once), then on every heartbeat interval. */
export function startRecovery(d: RecoveryDeps, o: RecoveryOptions = {}): { ready: Promise<void>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const pass = async (opts: RecoveryOptions) => {
    if (!d.registration.leaseValid()) return; // this process may itself be the one others consider dead
    await recoverOrphans(d, opts).catch((err) => d.logger.warn({ err }, 'Test & Enable crash recovery pass failed'));
  };
  const loop = () => {
    timer = setTimeout(async () => {
      await pass({});
      if (!stopped) loop();
    }, d.timing.heartbeatMs);
    timer.unref();
  };
  const ready = (async () => {
    await pass(o);
    loop();
  })();
  return {
    ready,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Jobs still waiting in decision 005's stately queue (written before this version) move to TEST_QUEUE, each bound to
 * its mailbox's waiting run, and the old queue is deleted. Serialized across starting workers by an advisory lock;
 * stop workers of the previous version first, as a job they are running is moved too.
 */
export async function drainLegacyQueue(d: Pick<RecoveryDeps, 'prisma' | 'boss' | 'logger'>): Promise<number> {
  const b = d.boss();
  if (!(await b.getQueue(LEGACY_TEST_QUEUE))) return 0;
  const moved = await d.prisma.$transaction(async (tx) => {
    await tx.$queryRawUnsafe(`SELECT 1 FROM pg_advisory_xact_lock(hashtext('mailroom.test-enable.legacy-queue'))`);
    const rows = await tx.$queryRawUnsafe<Array<{ mailboxId: string }>>(
      `DELETE FROM pgboss.job WHERE name = $1 AND state < 'completed' RETURNING data->>'mailboxId' AS "mailboxId"`,
      LEGACY_TEST_QUEUE,
    );
    const mailboxIds = [...new Set(rows.map((r) => r.mailboxId).filter(Boolean))];
    for (const mailboxId of mailboxIds) await rebind(tx, b, mailboxId);
    return mailboxIds.length;
  });
  await b.deleteQueue(LEGACY_TEST_QUEUE);
  if (moved) d.logger.info({ count: moved }, 'Test & Enable jobs moved from the old queue');
  return moved;
}

/** The mailbox's newest waiting run (or a new one) gets a job in TEST_QUEUE; older waiting runs are interrupted. */
async function rebind(tx: Prisma.TransactionClient, b: PgBoss, mailboxId: string): Promise<void> {
  if (!(await tx.mailbox.findUnique({ where: { id: mailboxId }, select: { id: true } }))) return;
  const waiting = await tx.testRun.findMany({
    where: { mailboxId, status: { in: ['QUEUED', 'RUNNING'] } },
    orderBy: { startedAt: 'desc' },
  });
  const [keep, ...rest] = waiting;
  if (rest.length)
    await tx.testRun.updateMany({
      where: { id: { in: rest.map((r) => r.id) } },
      data: { status: 'INTERRUPTED', finishedAt: new Date() },
    });
  const jobId = (await b.send(TEST_QUEUE, { mailboxId }, { db: fromPrisma(tx) })) as string;
  if (keep)
    await tx.testRun.update({ where: { id: keep.id }, data: { status: 'QUEUED', jobId, runnerProcessId: null } });
  else await tx.testRun.create({ data: { mailboxId, status: 'QUEUED', attempt: 1, jobId } });
}
