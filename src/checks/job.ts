// Test & Enable Mailbox as pg-boss jobs, the producer side every role has: the queues and their policy, and
// request(), which queues one job per mailbox (payload: its id only; at most one queued and one active per mailbox).
// The workers that run them are in ./worker.ts.
import { randomUUID } from 'node:crypto';
import { fromPrisma } from 'pg-boss';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Jobs, QueueSpec } from '../jobs/boss.ts';
import { auditMany, type AuditEntry } from '../security/audit.ts';

/**
 * Standard policy: one run per mailbox is kept by the TestRun rows (a request is refused while a run is QUEUED or
 * RUNNING), not by pg-boss. A stately queue's fetch skips every key that was active at its last once-a-minute stats
 * pass, which held retries and crash recoveries back for minutes (decision 015).
 */
export const TEST_QUEUE = 'mailbox-test-enable-runs';
/** The stately queue of decision 005: its waiting jobs are moved to TEST_QUEUE when a worker starts (recovery.ts). */
export const LEGACY_TEST_QUEUE = 'mailbox-test-enable';
export const DEAD_QUEUE = 'mailbox-test-enable-dead';
/** request() NOTIFYs this with the number of jobs it queued: idle workers start them at once (jobs/work-at-once.ts). */
export const TEST_WAKE_CHANNEL = 'mailroom_test_enable';
/** A run in one of these states holds its mailbox: another request for it answers "already running". */
export const ACTIVE_RUN = ['QUEUED', 'RUNNING'] as const;

export interface CheckSettings {
  retryLimit: number;
  retryBaseMs: number;
  /** A job running longer than this is presumed dead (its process crashed) and run again. */
  expireInSeconds: number;
  workers: number;
  pollingIntervalSeconds: number;
  /** Probe bounds (defaults in mail/types.ts); tests shorten them. */
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
}

export interface Payload {
  mailboxId: string;
}

const SSS = 'SERVER_SIDE_SYNC';
/**
 * Mailboxes per transaction after the first. PGlite has one connection: while a request's transaction runs, the
 * workers' fetches and claims wait for it, so 500 at a time kept every worker idle until the whole request was queued
 * (first claim at the request's end, decision 038).
 */
const REQUEST_CHUNK = 100;
/**
 * The first transaction queues only this many (a run's worth at the default concurrency), so workers start while the
 * rest is being queued: 500 mailboxes' transaction took ~0.6 s on PostgreSQL with every worker idle (decision 038).
 */
const REQUEST_FIRST_CHUNK = 50;

/** The dead-letter queue first: the test queue names it. */
export function testEnableQueues(settings: Pick<CheckSettings, 'expireInSeconds'>): QueueSpec[] {
  return [
    { name: DEAD_QUEUE, options: { policy: 'standard' } },
    // retryLimit: pg-boss's own retries serve crashes only (recovery.ts fails a dead runner's job to run it again).
    {
      name: TEST_QUEUE,
      options: {
        policy: 'standard',
        retryLimit: 2,
        retryDelay: 1,
        expireInSeconds: settings.expireInSeconds,
        deadLetter: DEAD_QUEUE,
      },
    },
  ];
}

export interface RequestResult {
  queued: string[];
  /** Mailboxes with a run still queued or running (or named twice in the request): no second run was made. */
  alreadyQueued: string[];
}

/** Per-run choices of a request. */
export interface RequestOptions {
  /** "Send a test message to myself": the SMTP check also sends a message from the mailbox to its own address. */
  sendTestMessage?: boolean;
}

/** Who asked, for the audit log (a request from a page); tests and tools may leave it out. */
export type Requester = Pick<AuditEntry, 'actor' | 'ip'>;

export function mailboxTests(deps: { prisma: PrismaClient; jobs: Jobs; settings: Pick<CheckSettings, 'retryLimit'> }) {
  const { prisma, jobs, settings } = deps;
  const boss = () => jobs.boss;

  /**
   * Queues one job per mailbox, in one transaction per 100 mailboxes (bench: one transaction per mailbox took
   * 8 ms on PGlite and 34 ms on PostgreSQL, so 1,000 mailboxes took 8–34 s before the first job could finish), the
   * first of only REQUEST_FIRST_CHUNK, which workers can start on while the rest is queued.
   * The mailbox rows are locked first (in id order, so two requests never deadlock): a second request for the same
   * mailbox waits for the first to commit and then finds its run, QUEUED or RUNNING, and makes none (decision 015).
   * Each run names its job, so only that job can claim it (worker.ts).
   */
  async function request(
    mailboxIds: string[],
    requestedBy: string | null,
    who?: Requester,
    o: RequestOptions = {},
  ): Promise<RequestResult> {
    await jobs.ready;
    const result: RequestResult = { queued: [], alreadyQueued: [] };
    const unique = [...new Set(mailboxIds)];
    for (let i = unique.length; i < mailboxIds.length; i++) result.alreadyQueued.push(mailboxIds[i]); // repeated in the request
    for (let i = 0; i < unique.length; ) {
      const chunk = unique.slice(i, i + (i === 0 ? REQUEST_FIRST_CHUNK : REQUEST_CHUNK));
      i += chunk.length;
      await prisma.$transaction(async (tx) => {
        const locked = await tx.$queryRawUnsafe<Array<{ id: string }>>(
          'SELECT id FROM "Mailbox" WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE',
          chunk,
        );
        if (!locked.length) return; // deleted meanwhile
        const found = await tx.mailbox.findMany({
          where: { id: { in: locked.map((r) => r.id) } },
          select: { id: true, incomingEmail: true, outgoingEmail: true },
        });
        const running = await tx.testRun.findMany({
          where: { mailboxId: { in: found.map((m) => m.id) }, status: { in: [...ACTIVE_RUN] } },
          select: { mailboxId: true },
        });
        const busy = new Set(running.map((r) => r.mailboxId));
        const queued = found.filter((mb) => !busy.has(mb.id));
        result.alreadyQueued.push(...found.filter((mb) => busy.has(mb.id)).map((mb) => mb.id));
        await auditMany(
          tx,
          found.map((mb) => requestAudit(mb.id, busy.has(mb.id), requestedBy, who)),
        );
        if (!queued.length) return;
        const jobIds = queued.map(() => randomUUID());
        await boss().insert(
          TEST_QUEUE,
          queued.map((mb, k) => ({ id: jobIds[k], data: { mailboxId: mb.id } })),
          { db: fromPrisma(tx) },
        );
        await tx.$executeRawUnsafe('SELECT pg_notify($1, $2)', TEST_WAKE_CHANNEL, String(queued.length)); // on commit
        const startedAt = new Date();
        for (const inc of [true, false])
          for (const out of [true, false]) {
            const ids = queued
              .filter((mb) => (mb.incomingEmail === SSS) === inc && (mb.outgoingEmail === SSS) === out)
              .map((mb) => mb.id);
            if (ids.length)
              await tx.mailbox.updateMany({
                where: { id: { in: ids } },
                data: {
                  incomingStatus: inc ? 'PENDING' : 'NOT_RUN',
                  outgoingStatus: out ? 'PENDING' : 'NOT_RUN',
                  lastTestStartedAt: startedAt,
                  retryCount: 0,
                  retryLimit: settings.retryLimit,
                  nextRetryAt: null,
                },
              });
          }
        await tx.testRun.createMany({
          data: queued.map((mb, k) => ({
            mailboxId: mb.id,
            requestedBy,
            status: 'QUEUED',
            attempt: 1,
            startedAt,
            jobId: jobIds[k],
            sendTestMessage: o.sendTestMessage === true,
          })),
        });
        result.queued.push(...queued.map((mb) => mb.id));
      });
    }
    return result;
  }

  return { request };
}

/** One audit entry per mailbox a request names: queued, or refused because a run is already queued or running. */
function requestAudit(mailboxId: string, busy: boolean, requestedBy: string | null, who?: Requester): AuditEntry {
  return {
    action: 'mailbox.test-enable',
    targetType: 'Mailbox',
    targetId: mailboxId,
    result: busy ? 'FAILURE' : 'SUCCESS',
    details: busy ? { step: 'request', refused: 'already running' } : { step: 'request', queued: true },
    actor: who?.actor ?? (requestedBy ? { id: requestedBy } : null),
    ip: who?.ip ?? null,
  };
}

export type MailboxTests = ReturnType<typeof mailboxTests>;
