// Diagnostic (decision 038): main-thread CPU of one raw statement through Prisma's $queryRawUnsafe and through the
// database's raw handle (the same pg pool, or PGlite's thread), alternated in one process, C statements at once.
// `ENGINE=postgres|pglite [N=3000] [C=50] npx tsx bench/diag/raw-vs-prisma.ts`
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { benchPostgres, tempDir } from '../util.ts';

const ENGINE = process.env.ENGINE ?? 'postgres';
const [N, C] = [Number(process.env.N ?? 3000), Number(process.env.C ?? 50)];
const dir = ENGINE === 'pglite' ? tempDir('rawprisma') : undefined;
const pgdb = ENGINE === 'postgres' ? await benchPostgres('rawprisma') : undefined;
const db = await openDatabase({ databaseUrl: pgdb?.url, dataDir: dir?.path ?? '' });
await migrate(db);
// A statement the shape of the job's claim: a few parameters, a row of scalars and two JSON objects back.
const SQL = `SELECT $1::text AS id, $2::int AS attempt, $3::boolean AS flag,
  json_build_object('a', $1::text, 'b', 2, 'c', true, 'd', 'x', 'e', null, 'f', 'some text') AS mailbox,
  json_build_object('g', 'y', 'h', 993, 'i', false) AS profile`;
const ways = {
  prisma: (i: number) => db.prisma.$queryRawUnsafe(SQL, `id-${i}`, i, true),
  raw: (i: number) => db.raw.query(SQL, [`id-${i}`, i, true]),
};
async function round(way: keyof typeof ways) {
  const t0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) await ways[way](next++);
    }),
  );
  const c = process.cpuUsage(t0);
  return (c.user + c.system) / 1000 / N;
}
try {
  await round('prisma');
  await round('raw');
  for (let r = 0; r < 3; r++)
    for (const way of ['prisma', 'raw'] as const)
      console.log(ENGINE, way, 'process CPU ms per statement', (await round(way)).toFixed(3));
} finally {
  await db.close();
  await pgdb?.drop();
  dir?.remove();
}
