// Diagnostic (decision 034): a Test & Enable job's own database work, before and after decision 034, alternated in one
// process so that both see the same machine. N jobs, C at a time (the mail servers, pg-boss and the semaphore left
// out: they are the same in both). Before: the claim, the mailbox read (Prisma, two statements), the grant read, the
// refresh claim, the token write, the claim's release, and the outcome as a Prisma transaction (BEGIN, four
// statements, COMMIT) — 12 round trips. After: claimRun, the grant read, the refresh claim, storeRefreshed (token +
// release) and writeOutcome — 5. Prints wall and CPU (the main thread's and the process's) per job for each.
// `ENGINE=pglite|postgres N=1000 C=50 ROUNDS=3 npx tsx bench/diag/job-sql-ab.ts`
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createSealer, SEALED } from '../../src/security/secrets.ts';
import { audit } from '../../src/security/audit.ts';
import { testMailboxSelect } from '../../src/checks/run.ts';
import { claimRun, writeOutcome, type ClaimedRun } from '../../src/checks/worker.ts';
import { storeRefreshed } from '../../src/gmail/provider.ts';
import type { Outcome } from '../../src/checks/outcome.ts';
import type { Step } from '../../src/mail/types.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { median, now, round } from '../util.ts';
import { openFreshDatabase, seedScaleWithoutWorld } from './seeded.ts';

const ENGINE = (process.env.ENGINE ?? 'pglite') as 'pglite' | 'postgres';
const [N, C, ROUNDS] = [process.env.N ?? 1000, process.env.C ?? 50, process.env.ROUNDS ?? 3].map(Number);
const PROCESS_ID = 'diag-process';

const steps: Step[] = [
  { id: 'token', label: 'Access token', status: 'ok', message: 'Access token refreshed; valid until 05:00.' },
  { id: 'account', label: 'Account and scope', status: 'ok', message: 'x@gmail.test with full Gmail access.' },
  { id: 'incoming-login', label: 'Incoming login (IMAP)', status: 'ok', message: 'Signed in as x@gmail.test.' },
  { id: 'incoming-mailbox', label: 'Open INBOX', status: 'ok', message: 'INBOX opened (0 messages).' },
  { id: 'outgoing-login', label: 'Outgoing login (SMTP)', status: 'ok', message: 'Signed in as x@gmail.test.' },
] as Step[];
const outcome: Outcome = {
  retry: false,
  gaveUp: false,
  incomingStatus: 'SUCCESS',
  outgoingStatus: 'SUCCESS',
  enabledForIncoming: true,
  enabledForOutgoing: true,
  alert: { level: 'INFO', code: 'ENABLED', message: 'All checks passed.', hint: '' },
};

const mainTid = String(process.pid);
function cpu(): { main: number; all: number } {
  const read = (path: string) => {
    const raw = readFileSync(path, 'utf8');
    const f = raw.slice(raw.lastIndexOf(') ') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  return { main: read(`/proc/self/task/${mainTid}/stat`), all: read('/proc/self/stat') };
}

const claimSql = `UPDATE "TestRun" SET status = 'RUNNING', "startedAt" = now(), "runnerProcessId" = $2
  WHERE "jobId" = $1 AND status = 'QUEUED' RETURNING id, "mailboxId", attempt, "requestedBy", "sendTestMessage"`;
const refreshClaim = (prisma: PrismaClient, mailboxId: string, claimId: string) =>
  prisma.$queryRaw<Array<{ accessToken: string }>>`UPDATE "GmailGrant"
    SET "refreshClaimedUntil" = now() + make_interval(secs => ${30}::double precision), "refreshClaimedBy" = ${claimId}
    WHERE "mailboxId" = ${mailboxId} AND ("refreshClaimedUntil" IS NULL OR "refreshClaimedUntil" < now())
    RETURNING "accessToken"`;

/** The job's statements as they were before decision 034 (copied from src at 1dee8fa). */
async function before(prisma: PrismaClient, jobId: string, token: string): Promise<void> {
  const [run] = await prisma.$queryRawUnsafe<ClaimedRun[]>(claimSql, jobId, PROCESS_ID);
  const mb = await prisma.mailbox.findUnique({ where: { id: run.mailboxId }, select: testMailboxSelect });
  if (!mb) throw new Error('no mailbox');
  await prisma.gmailGrant.findUnique({ where: { mailboxId: mb.id } });
  const claimId = randomUUID();
  await refreshClaim(prisma, mb.id, claimId);
  await prisma.gmailGrant.update({
    where: { mailboxId: mb.id },
    data: { accessToken: token, accessTokenExpiresAt: new Date(Date.now() + 3600_000), refreshedAt: new Date() },
  });
  await prisma.gmailGrant.updateMany({
    where: { mailboxId: mb.id, refreshClaimedBy: claimId },
    data: { refreshClaimedUntil: null, refreshClaimedBy: null },
  });
  await prisma.$transaction(async (tx) => {
    const { count } = await tx.testRun.updateMany({
      where: { id: run.id, status: 'RUNNING', runnerProcessId: PROCESS_ID },
      data: { status: 'SUCCESS', finishedAt: new Date(), steps: steps as never },
    });
    if (count !== 1) return;
    await tx.mailbox.update({
      where: { id: mb.id },
      data: {
        incomingStatus: 'SUCCESS',
        outgoingStatus: 'SUCCESS',
        enabledForIncoming: true,
        enabledForOutgoing: true,
        lastTestCompletedAt: new Date(),
        retryCount: 0,
        nextRetryAt: null,
      },
    });
    await tx.alert.create({ data: { mailboxId: mb.id, ...outcome.alert } });
    await audit(tx, {
      action: 'mailbox.test-enable',
      targetType: 'Mailbox',
      targetId: mb.id,
      result: 'SUCCESS',
      details: { step: 'outcome', attempts: 1, code: 'ENABLED' },
    });
  });
}

/** The same job's statements now. */
async function after(prisma: PrismaClient, jobId: string, token: string): Promise<void> {
  const claimed = await claimRun(db.raw, jobId, PROCESS_ID);
  if (!claimed) throw new Error('no run');
  const mb = claimed.mailbox;
  await prisma.gmailGrant.findUnique({ where: { mailboxId: mb.id } });
  const claimId = randomUUID();
  await refreshClaim(prisma, mb.id, claimId);
  await storeRefreshed(
    db.raw,
    mb.id,
    { id: claimId, held: true },
    { accessToken: token, expiresAt: new Date(Date.now() + 3600_000), at: new Date(), scopes: 'x', refreshToken: null },
  );
  if (!(await writeOutcome(db.raw, PROCESS_ID, claimed.run, steps, outcome))) throw new Error('not written');
}

const { db, config, close } = await openFreshDatabase(ENGINE, 'jobsql');
try {
  const { prisma } = db;
  const sealer = createSealer(config.secretsKeys.current);
  const seed = await seedScaleWithoutWorld(prisma, sealer, N);
  const token = sealer.seal('access', SEALED.grantAccessToken);
  const out: Record<string, { wallMsPerJob: number[]; mainCpuMsPerJob: number[]; processCpuMsPerJob: number[] }> = {};
  for (let r = 0; r < ROUNDS * 2; r++) {
    const variant = r % 2 === 0 ? 'before' : 'after';
    const jobIds = seed.mailboxIds.map(() => randomUUID());
    await prisma.testRun.createMany({
      data: seed.mailboxIds.map((mailboxId, i) => ({ mailboxId, status: 'QUEUED', jobId: jobIds[i] })),
    });
    const c0 = cpu();
    const t0 = now();
    let next = 0;
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (next < jobIds.length) {
          const id = jobIds[next++];
          await (variant === 'before' ? before : after)(prisma, id, token);
        }
      }),
    );
    const wall = now() - t0;
    const c1 = cpu();
    const o = (out[variant] ??= { wallMsPerJob: [], mainCpuMsPerJob: [], processCpuMsPerJob: [] });
    o.wallMsPerJob.push(round(wall / N, 2));
    o.mainCpuMsPerJob.push(round(((c1.main - c0.main) * 1000) / N, 2));
    o.processCpuMsPerJob.push(round(((c1.all - c0.all) * 1000) / N, 2));
    console.log(
      JSON.stringify({
        engine: ENGINE,
        variant,
        load: round(loadavg()[0], 1),
        wallMsPerJob: round(wall / N, 2),
        mainCpuMsPerJob: round(((c1.main - c0.main) * 1000) / N, 2),
        processCpuMsPerJob: round(((c1.all - c0.all) * 1000) / N, 2),
      }),
    );
  }
  const m = (v: string, k: 'wallMsPerJob' | 'mainCpuMsPerJob' | 'processCpuMsPerJob') => median(out[v][k]);
  console.log(
    JSON.stringify({
      engine: ENGINE,
      n: N,
      c: C,
      medians: {
        wallMsPerJob: [m('before', 'wallMsPerJob'), m('after', 'wallMsPerJob')],
        mainCpuMsPerJob: [m('before', 'mainCpuMsPerJob'), m('after', 'mainCpuMsPerJob')],
        processCpuMsPerJob: [m('before', 'processCpuMsPerJob'), m('after', 'processCpuMsPerJob')],
      },
    }),
  );
} finally {
  await close();
}
