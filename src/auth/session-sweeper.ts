// The one sweeper of expired sessions: a pg-boss job on a schedule, run by whichever worker process takes it.
import type { PgBoss } from 'pg-boss';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import { QUEUES, type QueueSpec } from '../jobs/boss.ts';

export const sessionSweeperQueues: QueueSpec[] = [{ name: QUEUES.sweepSessions, options: { policy: 'singleton' } }];

/** Works the sweep queue; with `schedule`, (re)writes its hourly schedule too (one row, whichever worker writes it). */
export async function startSessionSweeper(
  boss: PgBoss,
  deps: { prisma: PrismaClient; logger: Logger },
  opts: { schedule: boolean },
): Promise<void> {
  await boss.work(QUEUES.sweepSessions, async () => {
    const { count } = await deps.prisma.session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    deps.logger.debug({ count }, 'expired sessions swept');
    return { count };
  });
  if (opts.schedule) await boss.schedule(QUEUES.sweepSessions, '17 * * * *');
}
