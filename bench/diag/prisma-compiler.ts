// Diagnostic: what Prisma's query compiler build (the generator's compilerBuild, "fast" or "small") costs per query.
// Usage: npx tsx bench/diag/prisma-compiler.ts <dir> [rounds] — <dir> holds a build (dist/, as bench/diag/idle-breakdown.ts
// takes it). An in-memory PGlite in this process, migrated; CPU per query of a mix of reads and writes like the pages'
// and jobs', with the query-plan cache off (every query compiled: a first request, or a query shape never seen) and on
// (the default: a shape is compiled once), and the RSS the compiler adds at its first query.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';

const dir = resolve(process.argv[2] ?? '.');
const rounds = Number(process.argv[3] ?? 50);
const mod = async (p: string) => import(pathToFileURL(join(dir, 'dist/src', p)).href);
const rssMB = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const { PrismaClient } = await mod('generated/prisma/client.js');
const { pgliteDatabase } = await mod('db/client.js');
const { migrate } = await mod('db/migrate.js');
const { PGLITE_EXTENSIONS } = await mod('db/pglite-options.js');
const pglite = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
await migrate(pgliteDatabase(pglite)); // raw SQL: the Prisma client made there compiles nothing
const compiler = /query_compiler_(\w+)_bg/.exec(
  readFileSync(join(dir, 'dist/src/generated/prisma/internal/class.js'), 'utf8'),
)![1];

async function mix(prisma: InstanceType<typeof PrismaClient>, i: number): Promise<void> {
  const user = await prisma.user.upsert({
    where: { email: `u${i % 5}@example.com` },
    create: { email: `u${i % 5}@example.com`, name: 'U', passwordHash: 'x', role: 'ADMIN' },
    update: { name: `U${i}` },
  });
  await prisma.mailbox.findMany({
    where: { ownerId: user.id, OR: [{ name: { contains: 'a' } }, { emailAddress: { contains: 'b' } }] },
    include: { profile: true, grant: { select: { id: true } } },
    orderBy: [{ name: 'asc' }, { id: 'asc' }],
    take: 50,
  });
  await prisma.mailbox.count({ where: { ownerId: user.id, incomingStatus: 'FAILURE' } });
  await prisma.emailServerProfile.findMany({ include: { _count: { select: { mailboxes: true } } }, take: 20 });
  await prisma.user.findUnique({ where: { id: user.id }, select: { id: true, email: true, role: true } });
}

const results: string[] = [];
for (const cache of [0, 1000]) {
  const before = rssMB();
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite), queryPlanCacheMaxSize: cache });
  let t = cpuMs();
  await mix(prisma, 0);
  const first = cpuMs() - t;
  const afterFirst = rssMB();
  t = cpuMs();
  for (let i = 1; i <= rounds; i++) await mix(prisma, i);
  const per = (cpuMs() - t) / (rounds * 5);
  results.push(
    `compiler ${compiler}, plan cache ${cache ? 'on' : 'off'}: first mix ${Math.round(first)} ms CPU (RSS +${afterFirst - before} MB), then ${per.toFixed(2)} ms CPU per query (${rounds} × 5 queries, database included)`,
  );
  await prisma.$disconnect();
}
console.log(results.join('\n'));
await pglite.close();
