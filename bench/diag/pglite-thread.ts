// Diagnostic (decision 024): the same Prisma and raw statements on in-process PGlite and on PGlite in its own thread,
// one run: main-thread busy time per statement (event-loop utilization), and the event loop's delay (p50/p99/max)
// while 10 concurrent callers keep the database busy — what a page request waits for on a busy PGlite.
// Usage: N=2000 npx tsx bench/diag/pglite-thread.ts
import { performance } from 'node:perf_hooks';
import { execSync } from 'node:child_process';
import { PGlite } from '@electric-sql/pglite';
import { pgliteDatabase, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { pgliteOptions } from '../../src/db/pglite-options.ts';
import { PGliteRemote } from '../../src/db/pglite-remote.ts';

const N = Number(process.env.N ?? 2000);
const CONCURRENCY = 10;

async function run(name: string, db: Database) {
  await migrate(db);
  const user = await db.prisma.user.create({ data: { email: 'a@example.com', name: 'A', passwordHash: 'x' } });
  // Statements like a job's: a Prisma read, a raw update, a Prisma write in a transaction.
  const one = async (i: number) => {
    switch (i % 3) {
      case 0:
        return db.prisma.user.findUnique({ where: { id: user.id } });
      case 1:
        return db.raw.query('UPDATE "User" SET "updatedAt" = now() WHERE id = $1', [user.id]);
      default:
        return db.prisma.setting.upsert({
          where: { key: `k${i % 50}` },
          create: { key: `k${i % 50}`, value: String(i) },
          update: { value: String(i) },
        });
    }
  };
  for (let i = 0; i < 100; i++) await one(i); // warm up
  // A 10 ms timer stands for a page request arriving: how late it runs is how long a request waits for the loop.
  const late: number[] = [];
  let expected = performance.now() + 10;
  const probe = setInterval(() => {
    const now = performance.now();
    late.push(now - expected);
    expected = now + 10;
  }, 10);
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) await one(next++);
    }),
  );
  const wall = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  await new Promise((r) => setTimeout(r, 15)); // the probe's last (late) tick
  clearInterval(probe);
  late.sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round(late[Math.min(late.length - 1, Math.floor((late.length * p) / 100))]! * 10) / 10;
  console.log(
    JSON.stringify({
      engine: name,
      statements: N,
      wallMsPerStatement: Math.round((wall / N) * 100) / 100,
      mainThreadBusyMsPerStatement: Math.round((elu.active / N) * 100) / 100,
      timerLatenessMs: { ticks: late.length, p50: pct(50), p99: pct(99), max: pct(100) },
    }),
  );
  await db.close();
}

console.log(`load: ${execSync('uptime').toString().trim()}`);
await run('pglite in process', pgliteDatabase(await PGlite.create(pgliteOptions({}))));
await run('pglite in a thread', pgliteDatabase(await PGliteRemote.create({})));
console.log(`load: ${execSync('uptime').toString().trim()}`);
