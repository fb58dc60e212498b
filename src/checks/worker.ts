// The Test & Enable workers (worker role): a job claims the run that names it, runs the mailbox's checks, decides the
// outcome, queues its own retry for transient failures, and gives up through the dead-letter queue. Every write after
// the checks is fenced on the claim, so a run another process took over (recovery.ts) is never written twice.
import { randomUUID } from 'node:crypto';
import { fromPrisma, type Job } from 'pg-boss';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { RawSql } from '../db/client.ts';
import type { Jobs } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import type { Step } from '../mail/types.ts';
import { audit, auditRow } from '../security/audit.ts';
import { whenExact } from '../mailboxes/labels.ts';
import { DEAD_QUEUE, TEST_QUEUE, TEST_WAKE_CHANNEL, type CheckSettings, type Payload } from './job.ts';
import { workAtOnce } from '../jobs/work-at-once.ts';
import type { Notifier } from '../cluster/notify.ts';
import { decideOutcome, gaveUpHint, retryDelayMs, type Outcome } from './outcome.ts';
import { runChecks, testMailboxSelect, type RunEnv, type TestMailbox } from './run.ts';
import { checksClaim } from '../sync/connections.ts';

export interface TestWorkerDeps {
  prisma: PrismaClient;
  /**
   * The database's driver handle (the same pool as Prisma's, or PGlite's thread): the job's claim and outcome are
   * hand-written statements, and Prisma's $queryRawUnsafe cost ~0.3 ms of main-thread CPU more per statement
   * (bench/diag/raw-vs-prisma.ts, decision 038).
   */
  sql: RawSql;
  jobs: Jobs;
  logger: Logger;
  env: RunEnv;
  settings: CheckSettings;
  /** This process in the WorkerProcess table: the runner recorded on each run it claims. */
  processId: string;
  /** Wakes a worker when a job is queued (request() NOTIFYs); without it the workers only poll. */
  notifier?: Notifier;
}

const SSS = 'SERVER_SIDE_SYNC';

export interface ClaimedRun {
  id: string;
  mailboxId: string;
  attempt: number;
  requestedBy: string | null;
  sendTestMessage: boolean;
}

/** `fields`' columns of `alias` as one JSON object (the keys are the select's own, so the shape follows it). */
const jsonObject = (alias: string, fields: object) =>
  `json_build_object(${Object.keys(fields)
    .map((k) => `'${k}', ${alias}."${k}"`)
    .join(', ')})`;
const { profile: profileSelect, ...mailboxFields } = testMailboxSelect;
/**
 * The claim and the reads of the mailbox and its profile in one statement. JSON carries text, numbers, booleans and
 * enums (as their names) exactly as Prisma returns them; a DateTime field added to testMailboxSelect would arrive as
 * text (test/jobs/test-enable.test.ts compares this read with Prisma's).
 */
const CLAIM_SQL = `WITH run AS (
    UPDATE "TestRun" SET status = 'RUNNING', "startedAt" = now(), "runnerProcessId" = $2
    WHERE "jobId" = $1 AND status = 'QUEUED'
    RETURNING id, "mailboxId", attempt, "requestedBy", "sendTestMessage"
  )
  SELECT run.*,
    CASE WHEN m.id IS NULL THEN NULL ELSE ${jsonObject('m', mailboxFields)} END AS mailbox,
    CASE WHEN p.id IS NULL THEN NULL ELSE ${jsonObject('p', profileSelect.select)} END AS profile
  FROM run LEFT JOIN "Mailbox" m ON m.id = run."mailboxId" LEFT JOIN "EmailServerProfile" p ON p.id = m."profileId"`;

/**
 * The run that names this job, if it is still waiting: now RUNNING here (this process its runner), with its mailbox and
 * profile as testMailboxSelect reads them. One statement where there were three (decision 034). None: a stale or
 * duplicate job, or the mailbox was deleted meanwhile (its runs went with it).
 */
export async function claimRun(
  sql: RawSql,
  jobId: string,
  processId: string,
): Promise<{ run: ClaimedRun; mailbox: TestMailbox } | undefined> {
  const rows = await sql.query<ClaimedRun & { mailbox: unknown; profile: unknown }>(CLAIM_SQL, [jobId, processId]);
  const r = rows[0];
  if (!r?.mailbox) return undefined;
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
  const { mailbox, profile, ...run } = r;
  return { run, mailbox: { ...json(mailbox), profile: json(profile) ?? null } as TestMailbox };
}

/**
 * The final outcome: statuses, enabled flags, the run, an alert and an audit entry, all or nothing, in **one SQL
 * statement** (decision 034): the run's fenced update first, and every other write only if it matched. As a Prisma
 * transaction this was six round trips (BEGIN, four statements, COMMIT) per job — on PGlite six calls into its one
 * thread, on PostgreSQL six waits for a pooled connection — the largest share of a job's statements.
 */
export async function writeOutcome(
  sql: RawSql,
  processId: string,
  run: ClaimedRun,
  steps: Step[],
  outcome: Outcome,
): Promise<boolean> {
  const { mailboxId } = run;
  // After the last retry the steps' "will try again automatically" is no longer true.
  const final = outcome.gaveUp
    ? steps.map((s) =>
        s.status === 'fail' && s.transient && s.hint ? { ...s, hint: gaveUpHint(s.hint, run.attempt) } : s,
      )
    : steps;
  const failed = final.some((s) => s.status === 'fail');
  const status = failed ? 'FAILURE' : 'SUCCESS';
  // The requester is the actor: the audit log answers "who tested which mailbox, with what result".
  const entry = auditRow({
    action: 'mailbox.test-enable',
    targetType: 'Mailbox',
    targetId: mailboxId,
    actor: run.requestedBy ? { id: run.requestedBy } : null,
    result: status,
    details: {
      step: 'outcome',
      attempts: run.attempt,
      incomingStatus: outcome.incomingStatus,
      outgoingStatus: outcome.outgoingStatus,
      enabledForIncoming: outcome.enabledForIncoming,
      enabledForOutgoing: outcome.enabledForOutgoing,
      code: outcome.alert.code,
    },
  });
  // Timestamps as Prisma writes them into timestamp(3) columns: the UTC time, whatever the session's TimeZone.
  const at = new Date().toISOString();
  const rows = await sql.query<{ n: number }>(
    `WITH run AS (
       UPDATE "TestRun" SET status = $3, "finishedAt" = $4::timestamp(3), steps = $5::jsonb
       WHERE id = $1 AND status = 'RUNNING' AND "runnerProcessId" = $2
       RETURNING id
     ), mailbox AS (
       UPDATE "Mailbox" SET "incomingStatus" = $7::"CheckStatus", "outgoingStatus" = $8::"CheckStatus",
         "enabledForIncoming" = $9, "enabledForOutgoing" = $10, "lastTestCompletedAt" = $4::timestamp(3),
         "retryCount" = 0, "nextRetryAt" = NULL, "updatedAt" = $4::timestamp(3)
       WHERE id = $6 AND EXISTS (SELECT 1 FROM run)
       RETURNING id
     ), alert AS (
       INSERT INTO "Alert" (id, "mailboxId", level, code, message, hint, "createdAt")
       SELECT $11, $6, $12::"AlertLevel", $13, $14, $15, $4::timestamp(3) FROM run
     ), audit AS (
       INSERT INTO "AuditEvent" (id, at, "actorId", "actorEmail", action, "targetType", "targetId", result, details, ip)
       SELECT $16, $4::timestamp(3), $17, $18, $19, $20, $21, $22, $23::jsonb, $24 FROM run
     )
     SELECT (SELECT count(*) FROM run)::int AS n`,
    [
      run.id,
      processId,
      status,
      at,
      JSON.stringify(final),
      mailboxId,
      outcome.incomingStatus,
      outcome.outgoingStatus,
      outcome.enabledForIncoming,
      outcome.enabledForOutgoing,
      randomUUID(),
      outcome.alert.level,
      outcome.alert.code,
      outcome.alert.message,
      outcome.alert.hint,
      randomUUID(),
      entry.actorId,
      entry.actorEmail,
      entry.action,
      entry.targetType ?? null,
      entry.targetId ?? null,
      entry.result,
      JSON.stringify(entry.details),
      entry.ip,
    ],
  );
  return rows[0]?.n === 1;
}

export async function startTestEnableWorkers(deps: TestWorkerDeps): Promise<{ stop(): void }> {
  const { settings } = deps;
  const b = deps.jobs.boss;
  const h = testEnableHandlers(deps);
  const wakeable = await workAtOnce<Payload>(
    {
      boss: b,
      queue: TEST_QUEUE,
      workers: settings.workers,
      pollingIntervalSeconds: settings.pollingIntervalSeconds,
      notifier: deps.notifier,
      channel: TEST_WAKE_CHANNEL,
    },
    (job) => h.handle(job),
  );
  await b.work<Payload>(DEAD_QUEUE, { pollingIntervalSeconds: settings.pollingIntervalSeconds }, async ([job]) =>
    h.giveUp(job.data.mailboxId),
  );
  return wakeable;
}

export function testEnableHandlers(deps: TestWorkerDeps) {
  const { prisma, logger, settings, processId } = deps;
  const boss = () => deps.jobs.boss;

  /** Inside an outcome's transaction: the run is still ours (no other process took it over after a lost heartbeat). */
  async function stillOurs(tx: Prisma.TransactionClient, run: ClaimedRun, data: Prisma.TestRunUpdateManyMutationInput) {
    const { count } = await tx.testRun.updateMany({
      where: { id: run.id, status: 'RUNNING', runnerProcessId: processId },
      data,
    });
    return count === 1;
  }

  async function handle(job: Job<Payload>): Promise<void> {
    const claimed = await claimRun(deps.sql, job.id, processId);
    if (!claimed) {
      logger.debug({ jobId: job.id, mailboxId: job.data.mailboxId }, 'Test & Enable job has no waiting run: skipped');
      return;
    }
    const { run, mailbox: mb } = claimed;
    // CHECK_CONCURRENCY holds across every process (issue 14 item 9), not per process. "Send a test message to
    // myself": from the mailbox to its own address, reported as the SMTP check's last step.
    const env = { ...deps.env, sendTestMessageTo: run.sendTestMessage ? mb.emailAddress : undefined };
    const steps = await deps.env.semaphore.run([checksClaim(settings.workers)], { purpose: `test:${mb.id}` }, () =>
      runChecks(mb, env),
    );
    const outcome = decideOutcome({
      steps,
      incomingChecked: mb.incomingEmail === SSS,
      outgoingChecked: mb.outgoingEmail === SSS,
      approved: mb.emailApproval === 'APPROVED',
      attempt: run.attempt,
      retryLimit: settings.retryLimit,
    });
    const written = outcome.retry
      ? await retry(run, steps, outcome)
      : await writeOutcome(deps.sql, processId, run, steps, outcome);
    if (!written) {
      logger.warn({ mailboxId: run.mailboxId, runId: run.id }, 'Test & Enable run was taken over by another process');
      return;
    }
    if (outcome.retry)
      logger.info(
        { mailboxId: run.mailboxId, attempt: run.attempt, code: outcome.alert.code },
        'mailbox test will retry',
      );
    else
      logger.info(
        {
          mailboxId: run.mailboxId,
          incoming: outcome.incomingStatus,
          outgoing: outcome.outgoingStatus,
          code: outcome.alert.code,
        },
        'mailbox test finished',
      );
  }

  /** This attempt failed transiently: the next one is a QUEUED run with its own job, starting after the backoff. */
  async function retry(run: ClaimedRun, steps: Step[], outcome: Outcome): Promise<boolean> {
    const { mailboxId, attempt } = run;
    const nextRetryAt = new Date(Date.now() + retryDelayMs(attempt, settings.retryBaseMs));
    const nextJobId = randomUUID();
    return prisma.$transaction(async (tx) => {
      if (!(await stillOurs(tx, run, { status: 'RETRYING', finishedAt: new Date(), steps: stepsJson(steps) })))
        return false;
      await tx.mailbox.update({
        where: { id: mailboxId },
        data: { retryCount: attempt, retryLimit: settings.retryLimit, nextRetryAt },
      });
      await tx.testRun.create({
        data: {
          mailboxId,
          requestedBy: run.requestedBy,
          status: 'QUEUED',
          attempt: attempt + 1,
          jobId: nextJobId,
          sendTestMessage: run.sendTestMessage,
        },
      });
      await tx.alert.create({
        data: {
          mailboxId,
          level: 'WARNING',
          code: outcome.alert.code,
          message: `${outcome.alert.message} Retry ${attempt} of ${settings.retryLimit} at ${whenExact(nextRetryAt)}.`,
          hint: outcome.alert.hint,
        },
      });
      await boss().send(TEST_QUEUE, { mailboxId }, { id: nextJobId, startAfter: nextRetryAt, db: fromPrisma(tx) });
      return true;
    });
  }

  /** The job failed for good (crashed runs used up pg-boss's retries): never leave the mailbox Pending. */
  async function giveUp(mailboxId: string): Promise<void> {
    const hint = 'The test was interrupted (the server stopped or a check hung). Select Test & Enable Mailbox again.';
    await prisma.$transaction(async (tx) => {
      const mb = await tx.mailbox.findUnique({
        where: { id: mailboxId },
        select: { incomingStatus: true, outgoingStatus: true },
      });
      if (!mb) return;
      await tx.testRun.updateMany({
        where: { mailboxId, status: { in: ['RUNNING', 'QUEUED'] } },
        data: { status: 'INTERRUPTED', finishedAt: new Date() },
      });
      await tx.mailbox.update({
        where: { id: mailboxId },
        data: {
          incomingStatus: mb.incomingStatus === 'PENDING' ? 'FAILURE' : mb.incomingStatus,
          outgoingStatus: mb.outgoingStatus === 'PENDING' ? 'FAILURE' : mb.outgoingStatus,
          enabledForIncoming: false,
          enabledForOutgoing: false,
          lastTestCompletedAt: new Date(),
          retryCount: 0,
          nextRetryAt: null,
        },
      });
      await tx.alert.create({
        data: { mailboxId, level: 'ERROR', code: 'INTERRUPTED', message: 'The test did not finish.', hint },
      });
      await audit(tx, {
        action: 'mailbox.test-enable',
        targetType: 'Mailbox',
        targetId: mailboxId,
        result: 'FAILURE',
        details: { step: 'outcome', code: 'INTERRUPTED' },
      });
    });
  }

  return { handle, giveUp };
}

const stepsJson = (steps: Step[]) => steps as unknown as Prisma.InputJsonValue;
