// Decision 030's A/B, in one process on PostgreSQL: Test & Enable's connection-budget traffic at concurrency C with the
// mail servers taken out. N jobs, C at a time, each taking the permits a real job takes (checks:all, then the IMAP probe's
// profile + account keys and the SMTP probe's profile key in parallel), holding them for fixed sleeps that stand for the
// network, with a few queries on the same pool as a job's own reads and writes. Alternates the semaphore as it was
// before decision 030 (one transaction per try, one try after another) with the batched one, so both see the same load.
// `npx tsx bench/diag/semaphore-batch.ts [N=1000] [C=50] [rounds=2] [pool=10]`; prints wall ÷ (⌈N/C⌉ × the job alone) per variant.
import { loadavg } from 'node:os';
import { postgresDatabase, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { registerProcess } from '../../src/cluster/registry.ts';
import { createNotifier } from '../../src/cluster/notify.ts';
import { DbSemaphore } from '../../src/cluster/semaphore-db.ts';
import { QueueingSemaphore, type BatchAttempt, type ResolvedClaim } from '../../src/cluster/semaphore-queue.ts';
import type { AcquireOptions } from '../../src/cluster/semaphore.ts';
import { checksClaim, connectionClaims } from '../../src/sync/connections.ts';
import { benchPostgres, median, now, round, sleep } from '../util.ts';

type Batch = { claims: ResolvedClaim[]; opts: AcquireOptions }[];
const baseAttemptMany = (QueueingSemaphore.prototype as unknown as { attemptMany(b: Batch): Promise<BatchAttempt[]> })
  .attemptMany;

/** The semaphore before decision 030: every try its own transaction, one after another; every release its own statement. */
class OneByOne extends DbSemaphore {
  protected override coalesceReleases = false;
  protected override attemptMany(batch: Batch): Promise<BatchAttempt[]> {
    return baseAttemptMany.call(this, batch);
  }
}

const [N, C, ROUNDS, POOL] = [1000, 50, 2, 10].map((d, i) => Number(process.argv[2 + i] ?? d));
const PROFILES = 10;
const QUERIES = 12; // a job's own statements (claim, reads, token, outcome), on the same pool

async function job(db: Database, sem: DbSemaphore, i: number): Promise<number> {
  const t = now();
  const profileId = `p${i % PROFILES}`;
  const q = async (k: number) => {
    for (let j = 0; j < k; j++) await db.raw.query('SELECT 1');
  };
  await q(4);
  await sem.run([checksClaim(C)], { purpose: `test:${i}` }, async () => {
    await sleep(120); // the token endpoint
    await q(4);
    const probe = (protocol: 'imap' | 'smtp', ms: number) =>
      sem.run(
        connectionClaims({ profileId, maxConcurrentConnections: 2 * C, protocol, host: 'h', login: `m${i}` }),
        { purpose: `test:${i}` },
        () => sleep(ms),
      );
    await Promise.all([probe('imap', 300), probe('smtp', 250)]);
  });
  await q(QUERIES - 8);
  return now() - t;
}

async function run(db: Database, sem: DbSemaphore, n: number, c: number): Promise<{ wall: number; jobs: number[] }> {
  const jobs: number[] = [];
  let next = 0;
  const t = now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) jobs.push(await job(db, sem, next++));
    }),
  );
  return { wall: now() - t, jobs };
}

const pgdb = await benchPostgres('semaphore_batch');
const db = postgresDatabase(pgdb.url, POOL);
try {
  await migrate(db);
  const reg = await registerProcess(db, { role: 'worker' });
  const notifier = createNotifier(db);
  const all = {
    'one by one (before)': new OneByOne({ db, registration: reg, notifier }),
    'batched (decision 030)': new DbSemaphore({ db, registration: reg, notifier }),
  };
  // ONLY=batched: the batched semaphore alone (e.g. to compare pool sizes).
  const variants = Object.fromEntries(
    Object.entries(all).filter(([name]) => !process.env.ONLY || name.startsWith(process.env.ONLY)),
  );
  console.log(
    `N=${N} C=${C} on PostgreSQL, pool ${POOL}; load ${loadavg()
      .map((x) => round(x, 1))
      .join(' ')}`,
  );
  for (let r = 0; r < ROUNDS; r++)
    for (const [name, sem] of Object.entries(variants)) {
      const alone = median((await run(db, sem, 10, 1)).jobs);
      const all = await run(db, sem, N, C);
      const ideal = Math.ceil(N / C) * alone;
      console.log(
        `${name}: job alone ${round(alone)} ms, under C=${C} median ${round(median(all.jobs))} ms; wall ${round(all.wall)} ms = ${round(all.wall / ideal, 2)} × ideal; acquire transactions ${sem.sql.acquires}, release statements ${sem.sql.releases}; load ${round(loadavg()[0], 1)}`,
      );
      sem.sql.acquires = 0;
      sem.sql.releases = 0;
    }
  for (const sem of Object.values(all)) await sem.close();
  await notifier.close();
  await reg.stop();
} finally {
  await db.close();
  await pgdb.drop();
}
