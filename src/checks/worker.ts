// The Test & Enable workers (worker role): run one mailbox's checks per job, decide the outcome, retry transient
// failures on their own schedule, give up through the dead-letter queue, and recover jobs orphaned by a crash.
import { fromPrisma, type Job } from 'pg-boss';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Jobs } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import type { Step } from '../mail/types.ts';
import { when } from '../mailboxes/labels.ts';
import { DEAD_QUEUE, TEST_QUEUE, type CheckSettings, type Payload } from './job.ts';
import { decideOutcome, retryDelayMs } from './outcome.ts';
import { runChecks, testMailboxSelect, type RunEnv } from './run.ts';

export interface TestWorkerDeps {
  prisma: PrismaClient;
  jobs: Jobs;
  logger: Logger;
  env: RunEnv;
  settings: CheckSettings;
  /** Embedded mode has one process by construction: a job still active at start-up was orphaned by a crash. */
  embedded: boolean;
}

const SSS = 'SERVER_SIDE_SYNC';

export async function startTestEnableWorkers(deps: TestWorkerDeps): Promise<void> {
  const { settings } = deps;
  const b = deps.jobs.boss;
  const h = handlers(deps);
  if (deps.embedded) await h.failOrphans();
  await b.work<Payload>(
    TEST_QUEUE,
    {
      localConcurrency: settings.workers,
      pollingIntervalSeconds: settings.pollingIntervalSeconds,
      notifyPollingIntervalSeconds: settings.pollingIntervalSeconds * 5,
    },
    async ([job]) => h.handle(job),
  );
  await b.work<Payload>(DEAD_QUEUE, { pollingIntervalSeconds: settings.pollingIntervalSeconds }, async ([job]) =>
    h.giveUp(job.data.mailboxId),
  );
}

function handlers(deps: TestWorkerDeps) {
  const { prisma, logger, settings } = deps;
  const boss = () => deps.jobs.boss;

  /** A job still "active" at start-up belonged to a process that died (embedded mode only). */
  async function failOrphans(): Promise<void> {
    const b = boss();
    const active = await b.findJobs<Payload>(TEST_QUEUE, { queued: false }).catch(() => []);
    const orphans = active.filter((j) => j.state === 'active').map((j) => j.id);
    if (orphans.length) {
      await b.fail(TEST_QUEUE, orphans, { reason: 'interrupted: the previous process stopped mid-test' });
      logger.warn({ count: orphans.length }, 'mailbox tests interrupted by a crash will run again');
    }
  }

  async function handle(job: Job<Payload>): Promise<void> {
    const { mailboxId } = job.data;
    const mb = await prisma.mailbox.findUnique({ where: { id: mailboxId }, select: testMailboxSelect });
    if (!mb) return; // deleted meanwhile
    const attempt = mb.retryCount + 1;
    await prisma.testRun.updateMany({
      where: { mailboxId, status: 'RUNNING' },
      data: { status: 'INTERRUPTED', finishedAt: new Date() },
    });
    const queuedRun = await prisma.testRun.findFirst({
      where: { mailboxId, status: 'QUEUED' },
      orderBy: { startedAt: 'desc' },
    });
    const run = queuedRun
      ? await prisma.testRun.update({
          where: { id: queuedRun.id },
          data: { status: 'RUNNING', startedAt: new Date(), jobId: job.id, attempt },
        })
      : await prisma.testRun.create({ data: { mailboxId, status: 'RUNNING', jobId: job.id, attempt } });
    const steps = await runChecks(mb, deps.env);
    const outcome = decideOutcome({
      steps,
      incomingChecked: mb.incomingEmail === SSS,
      outgoingChecked: mb.outgoingEmail === SSS,
      approved: mb.emailApproval === 'APPROVED',
      attempt,
      retryLimit: settings.retryLimit,
    });
    const stepsJson = steps as unknown as object[];
    if (outcome.retry) {
      const nextRetryAt = new Date(Date.now() + retryDelayMs(attempt, settings.retryBaseMs));
      await prisma.$transaction(async (tx) => {
        await tx.testRun.update({
          where: { id: run.id },
          data: { status: 'RETRYING', finishedAt: new Date(), steps: stepsJson },
        });
        await tx.mailbox.update({
          where: { id: mailboxId },
          data: { retryCount: attempt, retryLimit: settings.retryLimit, nextRetryAt },
        });
        await tx.alert.create({
          data: {
            mailboxId,
            level: 'WARNING',
            code: outcome.alert.code,
            message: `${outcome.alert.message} Retry ${attempt} of ${settings.retryLimit} at ${when(nextRetryAt)}.`,
            hint: outcome.alert.hint,
          },
        });
        // stately: this job is active, so one more may wait in "created" until its start time.
        await boss().send(
          TEST_QUEUE,
          { mailboxId },
          { singletonKey: mailboxId, startAfter: nextRetryAt, db: fromPrisma(tx) },
        );
      });
      logger.info({ mailboxId, attempt, code: outcome.alert.code }, 'mailbox test will retry');
      return;
    }
    await prisma.$transaction(async (tx) => {
      await tx.testRun.update({
        where: { id: run.id },
        data: { status: stepsFailed(steps) ? 'FAILURE' : 'SUCCESS', finishedAt: new Date(), steps: stepsJson },
      });
      await tx.mailbox.update({
        where: { id: mailboxId },
        data: {
          incomingStatus: outcome.incomingStatus,
          outgoingStatus: outcome.outgoingStatus,
          enabledForIncoming: outcome.enabledForIncoming,
          enabledForOutgoing: outcome.enabledForOutgoing,
          lastTestCompletedAt: new Date(),
          retryCount: 0,
          nextRetryAt: null,
        },
      });
      await tx.alert.create({ data: { mailboxId, ...outcome.alert } });
    });
    logger.info(
      { mailboxId, incoming: outcome.incomingStatus, outgoing: outcome.outgoingStatus, code: outcome.alert.code },
      'mailbox test finished',
    );
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
    });
  }

  return { handle, giveUp, failOrphans };
}

const stepsFailed = (steps: Step[]) => steps.some((s) => s.status === 'fail');
