// Test & Enable Mailbox as pg-boss jobs: one job per mailbox (payload: its id only), at most one queued
// and one active per mailbox, own retry schedule for transient failures, and recovery after a crash.
import { randomUUID } from 'node:crypto';
import { fromPrisma, type PgBoss, type Job } from 'pg-boss';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Jobs } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import { decideOutcome, retryDelayMs } from './outcome.ts';
import { runChecks, testMailboxSelect, type RunEnv } from './run.ts';
import type { Step } from '../mail/types.ts';
import { when } from '../mailboxes/labels.ts';

export const TEST_QUEUE = 'mailbox-test-enable';
export const DEAD_QUEUE = 'mailbox-test-enable-dead';

export interface CheckSettings {
  retryLimit: number;
  retryBaseMs: number;
  /** A job running longer than this is presumed dead (its process crashed) and run again. */
  expireInSeconds: number;
  workers: number;
  pollingIntervalSeconds: number;
}

export interface TestJobDeps {
  prisma: PrismaClient;
  jobs: Jobs;
  logger: Logger;
  env: Omit<RunEnv, 'credentials'> & { credentials: RunEnv['credentials'] };
  settings: CheckSettings;
  embedded: boolean;
}

interface Payload { mailboxId: string }

const SSS = 'SERVER_SIDE_SYNC';
const REQUEST_CHUNK = 500;

export interface RequestResult { queued: string[]; alreadyQueued: string[] }

export function mailboxTests(deps: TestJobDeps) {
  const { prisma, jobs, logger, settings } = deps;
  const boss = () => jobs.boss;

  jobs.register(async (b: PgBoss) => {
    await b.createQueue(DEAD_QUEUE, { policy: 'standard' });
    // notify: an insert wakes the workers at once (LISTEN/NOTIFY, PGlite too); polling is only the backstop that
    // also picks up retries whose start time has come.
    await b.createQueue(TEST_QUEUE, { policy: 'stately', retryLimit: 2, retryDelay: 1, expireInSeconds: settings.expireInSeconds, deadLetter: DEAD_QUEUE, notify: true });
    if (deps.embedded) await failOrphans(b);
    await b.work<Payload>(TEST_QUEUE, { localConcurrency: settings.workers, pollingIntervalSeconds: settings.pollingIntervalSeconds, notifyPollingIntervalSeconds: settings.pollingIntervalSeconds * 5 }, async ([job]) => handle(job));
    await b.work<Payload>(DEAD_QUEUE, { pollingIntervalSeconds: settings.pollingIntervalSeconds }, async ([job]) => giveUp(job.data.mailboxId));
  });

  /** Embedded mode has one process: a job still "active" at start-up belonged to a process that died. */
  async function failOrphans(b: PgBoss): Promise<void> {
    const active = await b.findJobs<Payload>(TEST_QUEUE, { queued: false }).catch(() => []);
    const orphans = active.filter((j) => j.state === 'active').map((j) => j.id);
    if (orphans.length) {
      await b.fail(TEST_QUEUE, orphans, { reason: 'interrupted: the previous process stopped mid-test' });
      logger.warn({ count: orphans.length }, 'mailbox tests interrupted by a crash will run again');
    }
  }

  /**
   * Queues one job per mailbox, in one transaction per 500 mailboxes (bench: one transaction per mailbox took
   * 8 ms on PGlite and 34 ms on PostgreSQL, so 1,000 mailboxes took 8–34 s before the first job could finish).
   * Jobs are inserted first; a mailbox whose job already exists (singleton) keeps its status and gets no run.
   */
  async function request(mailboxIds: string[], requestedBy: string | null): Promise<RequestResult> {
    await jobs.ready;
    const result: RequestResult = { queued: [], alreadyQueued: [] };
    const unique = [...new Set(mailboxIds)];
    for (let i = unique.length; i < mailboxIds.length; i++) result.alreadyQueued.push(mailboxIds[i]); // repeated in the request
    for (let i = 0; i < unique.length; i += REQUEST_CHUNK) {
      const chunk = unique.slice(i, i + REQUEST_CHUNK);
      await prisma.$transaction(async (tx) => {
        const found = await tx.mailbox.findMany({ where: { id: { in: chunk } }, select: { id: true, incomingEmail: true, outgoingEmail: true } });
        if (!found.length) return; // deleted meanwhile
        const jobIds = new Map(found.map((mb) => [randomUUID(), mb]));
        // Inserted in the same transaction: ON CONFLICT skips a mailbox already queued, and only inserted ids come back.
        const inserted = new Set(await boss().insert(TEST_QUEUE, [...jobIds].map(([id, mb]) => ({ id, data: { mailboxId: mb.id }, singletonKey: mb.id })), { db: fromPrisma(tx), returnId: true }) ?? []);
        const queued = [...jobIds].filter(([id]) => inserted.has(id)).map(([, mb]) => mb);
        for (const mb of found) if (!queued.includes(mb)) result.alreadyQueued.push(mb.id);
        if (!queued.length) return;
        const startedAt = new Date();
        for (const inc of [true, false]) for (const out of [true, false]) {
          const ids = queued.filter((mb) => (mb.incomingEmail === SSS) === inc && (mb.outgoingEmail === SSS) === out).map((mb) => mb.id);
          if (ids.length) await tx.mailbox.updateMany({ where: { id: { in: ids } }, data: {
            incomingStatus: inc ? 'PENDING' : 'NOT_RUN', outgoingStatus: out ? 'PENDING' : 'NOT_RUN',
            lastTestStartedAt: startedAt, retryCount: 0, retryLimit: settings.retryLimit, nextRetryAt: null,
          } });
        }
        await tx.testRun.createMany({ data: queued.map((mb) => ({ mailboxId: mb.id, requestedBy, status: 'QUEUED', attempt: 1, startedAt })) });
        result.queued.push(...queued.map((mb) => mb.id));
      });
    }
    return result;
  }

  async function handle(job: Job<Payload>): Promise<void> {
    const { mailboxId } = job.data;
    const mb = await prisma.mailbox.findUnique({ where: { id: mailboxId }, select: testMailboxSelect });
    if (!mb) return; // deleted meanwhile
    const attempt = mb.retryCount + 1;
    await prisma.testRun.updateMany({ where: { mailboxId, status: 'RUNNING' }, data: { status: 'INTERRUPTED', finishedAt: new Date() } });
    const queuedRun = await prisma.testRun.findFirst({ where: { mailboxId, status: 'QUEUED' }, orderBy: { startedAt: 'desc' } });
    const run = queuedRun
      ? await prisma.testRun.update({ where: { id: queuedRun.id }, data: { status: 'RUNNING', startedAt: new Date(), jobId: job.id, attempt } })
      : await prisma.testRun.create({ data: { mailboxId, status: 'RUNNING', jobId: job.id, attempt } });
    const steps = await runChecks(mb, deps.env);
    const outcome = decideOutcome({
      steps, incomingChecked: mb.incomingEmail === SSS, outgoingChecked: mb.outgoingEmail === SSS,
      approved: mb.emailApproval === 'APPROVED', attempt, retryLimit: settings.retryLimit,
    });
    const stepsJson = steps as unknown as object[];
    if (outcome.retry) {
      const nextRetryAt = new Date(Date.now() + retryDelayMs(attempt, settings.retryBaseMs));
      await prisma.$transaction(async (tx) => {
        await tx.testRun.update({ where: { id: run.id }, data: { status: 'RETRYING', finishedAt: new Date(), steps: stepsJson } });
        await tx.mailbox.update({ where: { id: mailboxId }, data: { retryCount: attempt, retryLimit: settings.retryLimit, nextRetryAt } });
        await tx.alert.create({ data: { mailboxId, level: 'WARNING', code: outcome.alert.code, message: `${outcome.alert.message} Retry ${attempt} of ${settings.retryLimit} at ${when(nextRetryAt)}.`, hint: outcome.alert.hint } });
        // stately: this job is active, so one more may wait in "created" until its start time.
        await boss().send(TEST_QUEUE, { mailboxId }, { singletonKey: mailboxId, startAfter: nextRetryAt, db: fromPrisma(tx) });
      });
      logger.info({ mailboxId, attempt, code: outcome.alert.code }, 'mailbox test will retry');
      return;
    }
    await prisma.$transaction(async (tx) => {
      await tx.testRun.update({ where: { id: run.id }, data: { status: stepsFailed(steps) ? 'FAILURE' : 'SUCCESS', finishedAt: new Date(), steps: stepsJson } });
      await tx.mailbox.update({ where: { id: mailboxId }, data: {
        incomingStatus: outcome.incomingStatus, outgoingStatus: outcome.outgoingStatus,
        enabledForIncoming: outcome.enabledForIncoming, enabledForOutgoing: outcome.enabledForOutgoing,
        lastTestCompletedAt: new Date(), retryCount: 0, nextRetryAt: null,
      } });
      await tx.alert.create({ data: { mailboxId, ...outcome.alert } });
    });
    logger.info({ mailboxId, incoming: outcome.incomingStatus, outgoing: outcome.outgoingStatus, code: outcome.alert.code }, 'mailbox test finished');
  }

  /** The job failed for good (crashed runs used up pg-boss's retries): never leave the mailbox Pending. */
  async function giveUp(mailboxId: string): Promise<void> {
    const hint = 'The test was interrupted (the server stopped or a check hung). Select Test & Enable Mailbox again.';
    await prisma.$transaction(async (tx) => {
      const mb = await tx.mailbox.findUnique({ where: { id: mailboxId }, select: { incomingStatus: true, outgoingStatus: true } });
      if (!mb) return;
      await tx.testRun.updateMany({ where: { mailboxId, status: { in: ['RUNNING', 'QUEUED'] } }, data: { status: 'INTERRUPTED', finishedAt: new Date() } });
      await tx.mailbox.update({ where: { id: mailboxId }, data: {
        incomingStatus: mb.incomingStatus === 'PENDING' ? 'FAILURE' : mb.incomingStatus, outgoingStatus: mb.outgoingStatus === 'PENDING' ? 'FAILURE' : mb.outgoingStatus,
        enabledForIncoming: false, enabledForOutgoing: false, lastTestCompletedAt: new Date(), retryCount: 0, nextRetryAt: null,
      } });
      await tx.alert.create({ data: { mailboxId, level: 'ERROR', code: 'INTERRUPTED', message: 'The test did not finish.', hint } });
    });
  }

  return { request };
}

const stepsFailed = (steps: Step[]) => steps.some((s) => s.status === 'fail');

export type MailboxTests = ReturnType<typeof mailboxTests>;
