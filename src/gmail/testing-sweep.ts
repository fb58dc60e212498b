// Google apps in Testing status: Google ends each Gmail sign-in 7 days after it issued the refresh token. An hourly
// job (worker role) writes one WARNING alert on each such mailbox a day before that, or once it has passed, per
// refresh token: a new sign-in starts the 7 days again and earns its own alert.
import type { PgBoss } from 'pg-boss';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { QueueSpec } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import { TESTING_TOKEN_DAYS } from '../mailboxes/grant-health.ts';
import { relative, when } from '../mailboxes/labels.ts';

export const TESTING_SWEEP_QUEUE = 'maintenance-testing-sign-ins';
export const testingSweepQueues: QueueSpec[] = [{ name: TESTING_SWEEP_QUEUE, options: { policy: 'singleton' } }];
export const TESTING_ALERT = 'GMAIL_SIGN_IN_EXPIRES';
const DAY_MS = 86_400_000;

interface Due {
  mailboxId: string;
  googleEmail: string;
  refreshTokenIssuedAt: Date;
  profileName: string;
}

/** Writes the alerts that are due now; returns how many. Safe to run often: one alert per refresh token. */
export async function warnExpiringSignIns(prisma: PrismaClient, now = new Date()): Promise<number> {
  const dueFrom = new Date(now.getTime() - (TESTING_TOKEN_DAYS - 1) * DAY_MS);
  const due = await prisma.$queryRawUnsafe<Due[]>(
    `SELECT g."mailboxId", g."googleEmail", g."refreshTokenIssuedAt", p.name AS "profileName"
     FROM "GmailGrant" g JOIN "Mailbox" m ON m.id = g."mailboxId" JOIN "EmailServerProfile" p ON p.id = m."profileId"
     WHERE p."googleAppInTesting" AND g."refreshToken" IS NOT NULL AND g."signInRequiredAt" IS NULL
       AND g."refreshTokenIssuedAt" <= $1
       AND NOT EXISTS (SELECT 1 FROM "Alert" a
         WHERE a."mailboxId" = g."mailboxId" AND a.code = $2 AND a."createdAt" >= g."refreshTokenIssuedAt")`,
    dueFrom,
    TESTING_ALERT,
  );
  if (!due.length) return 0;
  await prisma.alert.createMany({
    data: due.map((d) => {
      const ends = new Date(new Date(d.refreshTokenIssuedAt).getTime() + TESTING_TOKEN_DAYS * DAY_MS);
      const ended = ends <= now;
      return {
        mailboxId: d.mailboxId,
        level: 'WARNING' as const,
        code: TESTING_ALERT,
        message: `The Gmail sign-in of ${d.googleEmail} ${ended ? 'ended' : 'ends'} at ${when(ends)}${ended ? '' : ` (${relative(ends, now)})`}: the Google app of the email server profile “${d.profileName}” is in Testing status, and Google ends such sign-ins 7 days after they were given.`,
        hint: `Select Sign in to Gmail again${ended ? '' : ' before then'}: a new sign-in gets 7 more days. To stop this for good, publish the Google app to Production (Google Cloud Console → OAuth consent screen → Publish app), then untick “The Google app is in Testing status” on the profile.`,
      };
    }),
  });
  return due.length;
}

/** Works the sweep queue; with `schedule`, (re)writes its hourly schedule (one row, whichever worker writes it). */
export async function startTestingSweep(
  boss: PgBoss,
  deps: { prisma: PrismaClient; logger: Logger },
  opts: { schedule: boolean },
): Promise<void> {
  await boss.work(TESTING_SWEEP_QUEUE, async () => {
    const count = await warnExpiringSignIns(deps.prisma);
    if (count) deps.logger.info({ count }, 'Testing-status Gmail sign-ins about to end: alerts written');
    return { count };
  });
  if (opts.schedule) await boss.schedule(TESTING_SWEEP_QUEUE, '23 * * * *');
}
