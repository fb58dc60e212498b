// The one sweeper of expired sessions (and of sign-in attempts older than a day): a pg-boss job on a schedule, run by
// whichever worker process takes it.
import type { PgBoss } from 'pg-boss';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import { QUEUES, type QueueSpec } from '../jobs/boss.ts';

const DAY_MS = 24 * 3_600_000;

export const sessionSweeperQueues: QueueSpec[] = [{ name: QUEUES.sweepSessions, options: { policy: 'singleton' } }];

/** Works the sweep queue; with `schedule`, (re)writes its hourly schedule too (one row, whichever worker writes it). */
export async function startSessionSweeper(
  boss: PgBoss,
  deps: { prisma: PrismaClient; logger: Logger },
  opts: { schedule: boolean },
): Promise<void> {
  await boss.work(QUEUES.sweepSessions, async () => {
    const { count } = await deps.prisma.session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    // The throttle's window is minutes; a day of failed attempts stays for a look after an attack.
    const attempts = await deps.prisma.loginAttempt.deleteMany({
      where: { at: { lt: new Date(Date.now() - DAY_MS) } },
    });
    deps.logger.debug({ count, attempts: attempts.count }, 'expired sessions swept');
    return { count, attempts: attempts.count };
  });
  if (opts.schedule) await boss.schedule(QUEUES.sweepSessions, '17 * * * *');
}
