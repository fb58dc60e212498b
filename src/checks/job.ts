// Test & Enable Mailbox as pg-boss jobs, the producer side every role has: the queues and their policy, and
// request(), which queues one job per mailbox (payload: its id only; at most one queued and one active per mailbox).
// The workers that run them are in ./worker.ts.
import { randomUUID } from 'node:crypto';
import { fromPrisma } from 'pg-boss';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Jobs, QueueSpec } from '../jobs/boss.ts';

export const TEST_QUEUE = 'mailbox-test-enable';
export const DEAD_QUEUE = 'mailbox-test-enable-dead';

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
const REQUEST_CHUNK = 500;

/** The dead-letter queue first: the test queue names it. */
export function testEnableQueues(settings: Pick<CheckSettings, 'expireInSeconds'>): QueueSpec[] {
  return [
    { name: DEAD_QUEUE, options: { policy: 'standard' } },
    // stately: one queued and one active job per mailbox (singletonKey), so a running job can queue its own retry.
    // notify: an insert wakes the workers at once (LISTEN/NOTIFY, PGlite too); polling is only the backstop.
    {
      name: TEST_QUEUE,
      options: {
        policy: 'stately',
        retryLimit: 2,
        retryDelay: 1,
        expireInSeconds: settings.expireInSeconds,
        deadLetter: DEAD_QUEUE,
        notify: true,
      },
    },
  ];
}

export interface RequestResult {
  queued: string[];
  alreadyQueued: string[];
}

export function mailboxTests(deps: { prisma: PrismaClient; jobs: Jobs; settings: Pick<CheckSettings, 'retryLimit'> }) {
  const { prisma, jobs, settings } = deps;
  const boss = () => jobs.boss;

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
        const found = await tx.mailbox.findMany({
          where: { id: { in: chunk } },
          select: { id: true, incomingEmail: true, outgoingEmail: true },
        });
        if (!found.length) return; // deleted meanwhile
        const jobIds = new Map(found.map((mb) => [randomUUID(), mb]));
        // Inserted in the same transaction: ON CONFLICT skips a mailbox already queued, and only inserted ids come back.
        const inserted = new Set(
          (await boss().insert(
            TEST_QUEUE,
            [...jobIds].map(([id, mb]) => ({ id, data: { mailboxId: mb.id }, singletonKey: mb.id })),
            { db: fromPrisma(tx), returnId: true },
          )) ?? [],
        );
        const queued = [...jobIds].filter(([id]) => inserted.has(id)).map(([, mb]) => mb);
        for (const mb of found) if (!queued.includes(mb)) result.alreadyQueued.push(mb.id);
        if (!queued.length) return;
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
          data: queued.map((mb) => ({ mailboxId: mb.id, requestedBy, status: 'QUEUED', attempt: 1, startedAt })),
        });
        result.queued.push(...queued.map((mb) => mb.id));
      });
    }
    return result;
  }

  return { request };
}

export type MailboxTests = ReturnType<typeof mailboxTests>;
