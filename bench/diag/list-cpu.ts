// Diagnostic: A/B of the server's CPU per request on list pages, one seeded database, servers built in different
// folders taking turns (A B A B …), so a busy machine weighs on both alike. Each folder holds dist/, views/, public/,
// prisma/ and package.json (a copy of a build, node_modules linked). SYNC=off is passed on.
// A folder may carry environment variables of its own after '#' (`.#PGLITE_PREPARED=off`, the same build both ways).
// Usage: [CONN=n] tsx bench/diag/list-cpu.ts <pglite|postgres> <requests> <rounds> <folder>[,<folder>…] <path> [<path> …]
import autocannon from 'autocannon';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { seedEmails } from '../seed.ts';
import { openSeededPages } from './seeded.ts';
import { spawnServer } from '../start.ts';
import { signIn } from '../pages.ts';
import { readFileSync, readdirSync } from 'node:fs';
import pg from 'pg';
import { baseEnv, benchPostgres, procCpuSeconds, round, tempDir } from '../util.ts';

/** CPU seconds of each thread of a process so far (tid → utime + stime), to split the main thread from the rest. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) / 100);
    } catch {}
  }
  return out;
}

const [engine = 'postgres', requests = '100', rounds = '3', folders = '.', ...paths] = process.argv.slice(2);
const dir = engine === 'pglite' ? tempDir('listcpu') : undefined;
const pgdb = engine === 'postgres' ? await benchPostgres('listcpu') : undefined;
const env = baseEnv({
  ...(dir ? { DATA_DIR: join(dir.path, 'data') } : { DATABASE_URL: pgdb!.url }),
  ...(process.env.SYNC ? { SYNC: process.env.SYNC } : {}),
  // MAILROOM_ROLE=web (PostgreSQL): no job workers polling in the server, so its CPU is the pages' alone.
  ...(process.env.MAILROOM_ROLE ? { MAILROOM_ROLE: process.env.MAILROOM_ROLE } : {}),
});
const config = loadConfig(env);
const { db, seed } = await openSeededPages(config);
if (Number(process.env.EMAILS ?? 0)) await seedEmails(db.raw, { emails: Number(process.env.EMAILS), mailboxes: 10000 });
await db.close();

/**
 * PostgreSQL: the CPU seconds so far of the database's backends serving this database (the server's pool), so a page's
 * database work is counted too: the node server's CPU alone does not see a plan that costs the database more.
 */
async function backendCpu(): Promise<number> {
  if (!pgdb) return 0;
  const c = new pg.Client({ connectionString: pgdb.url });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows.reduce((a, r) => a + (procCpuSeconds(r.pid) || 0), 0);
  } finally {
    await c.end();
  }
}

const results = new Map<string, number[]>();
const dbResults = new Map<string, number[]>();
for (let r = 0; r < Number(rounds); r++) {
  for (const folder of folders.split(',')) {
    // PROF=<port>: a CPU profile of each measured run (/work/tools/cpuprof.mjs through the inspector on that port).
    const prof = process.env.PROF ? [`--inspect-port=${process.env.PROF}`] : [];
    const [cwd, ...vars] = folder.split('#');
    const own = Object.fromEntries(vars.map((v) => v.split('=') as [string, string]));
    const server = await spawnServer({ ...env, ...own }, { cwd, args: ['--max-semi-space-size=4', ...prof] });
    console.error(`server pid ${server.serverPid} (${folder})`);
    try {
      const cookie = await signIn(server.url, seed.adminEmail, seed.password);
      for (const path of paths) {
        // Requests one after another on one connection: each one's CPU is counted whole, none left in flight, so a
        // saturated machine slows the run but does not skew the figure (with MAILROOM_ROLE=web nothing else runs).
        // CONN=n: n connections instead (a session's requests in flight together, as the pages bench's 10 connections).
        const connections = Number(process.env.CONN ?? 1);
        const run = (amount: number) =>
          autocannon({ url: server.url + path, connections, amount, headers: { cookie } });
        await run(20);
        const b0 = await backendCpu();
        const c0 = procCpuSeconds(server.serverPid);
        const t0 = threadCpu(server.serverPid);
        const profiling = process.env.PROF
          ? new Promise<string>((resolve) =>
              execFile(
                process.execPath,
                [
                  '--experimental-websocket',
                  process.env.PROF_SCRIPT ?? '/work/tools/cpuprof.mjs',
                  String(server.serverPid),
                  process.env.PROF_SECONDS ?? '5',
                  process.env.PROF ?? '',
                ],
                (_e, out) => resolve(out),
              ),
            )
          : null;
        const got = await run(Number(requests));
        if (profiling) console.log(await profiling);
        const cpu = ((procCpuSeconds(server.serverPid) - c0) * 1000) / got.requests.total;
        // Backends the pool opened during the run are missed by b0 (counted from 0): the warm-up opens the pool.
        const dbCpu = (((await backendCpu()) - b0) * 1000) / got.requests.total;
        // The split: the main thread (tid = pid), the busiest other thread (PGlite's, when there is one), the rest.
        const perReq = (s: number) => round((s * 1000) / got.requests.total, 2);
        const deltas = [...threadCpu(server.serverPid)].map(([tid, s]) => [tid, s - (t0.get(tid) ?? 0)] as const);
        const main = deltas.find(([tid]) => tid === String(server.serverPid))?.[1] ?? 0;
        const others = deltas.filter(([tid]) => tid !== String(server.serverPid)).sort((a, b) => b[1] - a[1]);
        const rest = others.slice(1).reduce((a, [, s]) => a + s, 0);
        console.log(
          `  threads: main ${perReq(main)} ms, busiest other ${perReq(others[0]?.[1] ?? 0)} ms, rest ${perReq(rest)} ms`,
        );
        const key = `${path}  ${folder}`;
        results.set(key, [...(results.get(key) ?? []), round(cpu, 2)]);
        if (pgdb) dbResults.set(key, [...(dbResults.get(key) ?? []), round(dbCpu, 2)]);
        console.log(
          `${key}: ${round(cpu, 2)} ms CPU${pgdb ? ` (+ PostgreSQL backends ${round(dbCpu, 2)} ms)` : ''}, ${round(got.requests.average)} req/s, p99 ${got.latency.p99} ms, non2xx ${got.non2xx}`,
        );
      }
    } finally {
      await server.stop();
    }
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log('--- CPU ms per request, each round, and the median');
for (const [key, v] of results) console.log(`${key.padEnd(60)} ${v.join(' ').padEnd(30)} median ${median(v)}`);
if (pgdb) {
  console.log('--- PostgreSQL backends: CPU ms per request, each round, and the median');
  for (const [key, v] of dbResults) console.log(`${key.padEnd(60)} ${v.join(' ').padEnd(30)} median ${median(v)}`);
}
dir?.remove();
await pgdb?.drop();
process.exit(0);
