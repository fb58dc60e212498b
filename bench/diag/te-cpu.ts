// Diagnostic (decision 034): where the time of Test & Enable at C = 50 goes, one engine per run.
// `ENGINE=postgres|pglite N=1000 C=50 C1=20 [PROF=1] [SQL=1] npx tsx bench/diag/te-cpu.ts`
// Seeds N mailboxes as the scale bench does (same world: TLS token endpoint, IMAP/SMTP fakes behind 20 ms proxies),
// measures the job time at C = 1 over C1 mailboxes, then all N at C. Prints: wall ÷ (⌈N/C⌉ × job), the CPU of the
// app per thread (main, PGlite's, others, from /proc/self/task), of the world process and of the machine, the main
// thread's event-loop utilization; SQL=1: statements per job by shape (the app's pg clients, or PGlite's thread calls);
// PROF=1: a CPU profile of the main thread during the C run (inspector), written to $PROF_DIR (default /tmp).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { rerunWithBenchCa } from '../ca-rerun.ts';

// The token endpoint is HTTPS (world.ts): fetch reads the CA only from NODE_EXTRA_CA_CERTS at start-up (as run.ts).
rerunWithBenchCa('tecpu');

const ENGINE = (process.env.ENGINE ?? 'postgres') as 'postgres' | 'pglite';
const [N, C, C1] = [process.env.N ?? 1000, process.env.C ?? 50, process.env.C1 ?? 20].map(Number);

// Statement counting, switched on around the C run only.
let tracing = false;
const shapes = new Map<string, number>();
const count = (sql: unknown) => {
  if (!tracing) return;
  const text = typeof sql === 'string' ? sql : ((sql as { text?: string })?.text ?? '?');
  const k = text.replace(/\s+/g, ' ').slice(0, 100);
  shapes.set(k, (shapes.get(k) ?? 0) + 1);
};
if (process.env.SQL) {
  const q = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  (pg.Client.prototype as unknown as { query: unknown }).query = function (this: unknown, ...a: unknown[]) {
    count(a[0]);
    return q.apply(this, a);
  };
  const { PGliteRemote } = await import('../../src/db/pglite-remote.ts');
  const p = PGliteRemote.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['query', 'exec']) {
    const orig = p[m];
    p[m] = function (this: unknown, ...a: unknown[]) {
      count(`${a[m === 'query' ? 3 : 2] ? '[tx] ' : ''}${a[0]}`);
      return orig.apply(this, a);
    };
  }
  const tx = p.transaction;
  p.transaction = function (this: unknown, ...a: unknown[]) {
    count('[BEGIN…END]');
    return tx.apply(this, a);
  };
}

const { startInstance, runBatch } = await import('../scale.ts');
const { startRemoteWorld } = await import('../world.ts');
const { seedScale, resetForRun } = await import('../seed.ts');
const { baseEnv, benchPostgres, median, round, tempDir, procCpuSeconds } = await import('../util.ts');

/** CPU seconds per thread of this process, by thread id, with its name. */
function threads(): Map<string, { name: string; s: number }> {
  const out = new Map<string, { name: string; s: number }>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const raw = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const name = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      const f = raw.slice(raw.lastIndexOf(') ') + 2).split(' ');
      out.set(t, { name, s: (Number(f[11]) + Number(f[12])) / 100 });
    } catch {
      // gone
    }
  }
  return out;
}

/** CPU seconds of thread `tid` between two readings. */
function perThreadS(a: Map<string, { s: number }>, b: Map<string, { s: number }>, tid: number) {
  const x = b.get(String(tid));
  return x ? x.s - (a.get(String(tid))?.s ?? 0) : undefined;
}

function wallParts(runs: ReadonlyArray<readonly [number, number]>, requestMs: number, c: number) {
  const first = Math.min(...runs.map((r) => r[0]));
  const last = Math.max(...runs.map((r) => r[1]));
  const busy = runs.reduce((a, r) => a + (r[1] - r[0]), 0);
  // The k-th claim from the C-th on needs a slot that the (k − C)-th final write freed: the gap between them is the
  // time a slot stood idle between two jobs (pick-up: pg-boss's complete and fetch, our claim).
  const claims = runs.map((r) => r[0]).sort((a, b) => a - b);
  const ends = runs.map((r) => r[1]).sort((a, b) => a - b);
  const gaps = claims
    .slice(c)
    .map((t, k) => t - ends[k])
    .sort((a, b) => a - b);
  const q = (p: number) => (gaps.length ? gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))] : null);
  return {
    requestMs: Math.round(requestMs),
    slotGapMs: { p10: q(0.1), p50: q(0.5), p90: q(0.9) },
    firstClaimMs: first,
    lastWriteMs: last,
    slotsBusy: Math.round((busy / (c * (last - first))) * 100) / 100,
  };
}

const world = await startRemoteWorld(20);
const env = baseEnv({ SYNC: 'off' });
const dir = ENGINE === 'pglite' ? tempDir('tecpu') : undefined;
const pgdb = ENGINE === 'postgres' ? await benchPostgres('tecpu') : undefined;
const where = dir ? dir.path : pgdb!.url;
try {
  let inst = await startInstance(ENGINE, where, world, 1, env);
  const seed = await seedScale(inst.db.prisma, inst.sealer, world, { n: N, maxConcurrentConnections: 2 * C });
  const ids1 = seed.mailboxIds.slice(0, C1);
  await resetForRun(inst.db.prisma, ids1);
  const c1 = await runBatch(inst, ids1, 20);
  await inst.close();
  const jobMs = c1.jobMsMedian!;

  inst = await startInstance(ENGINE, where, world, C, env);
  await resetForRun(inst.db.prisma, seed.mailboxIds);
  const session = process.env.PROF ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  // The CPU of this database's PostgreSQL backends (the app's pools, pg-boss's, the notifier), from /proc.
  const backends = async () => {
    if (!pgdb) return new Map<number, number>();
    const c = new pg.Client({ connectionString: pgdb.url });
    await c.connect();
    const { rows } = await c.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    await c.end();
    return new Map(rows.map((r) => [r.pid, procCpuSeconds(r.pid)]));
  };
  const pg0 = await backends();
  const load0 = loadavg()[0];
  const th0 = threads();
  const w0 = procCpuSeconds(world.pid);
  const elu0 = performance.eventLoopUtilization();
  tracing = true;
  const all = await runBatch(inst, seed.mailboxIds, 50, world.pid);
  tracing = false;
  const elu = performance.eventLoopUtilization(elu0);
  const pg1 = await backends();
  let pgCpuS = 0;
  for (const [pid, s] of pg1) if (Number.isFinite(s)) pgCpuS += s - (pg0.get(pid) ?? 0);
  const w1 = procCpuSeconds(world.pid);
  const th1 = threads();
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    const file = join(process.env.PROF_DIR ?? '/tmp', `te-cpu-${ENGINE}-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    console.log('profile', file);
  }
  const wallS = all.wallMs / 1000;
  const perThread = [...th1]
    .map(([tid, t]) => ({ tid, name: t.name, share: round((t.s - (th0.get(tid)?.s ?? 0)) / wallS, 2) }))
    .filter((t) => t.share > 0.005)
    .sort((a, b) => b.share - a.share);
  const ideal = Math.ceil(N / C) * jobMs;
  console.log(
    JSON.stringify({
      engine: ENGINE,
      n: N,
      c: C,
      load: [round(load0, 1), round(loadavg()[0], 1)],
      jobMsC1: jobMs,
      wallMs: round(all.wallMs),
      ratio: round(all.wallMs / ideal, 2),
      jobMsMedianAtC: all.jobMsMedian,
      succeeded: all.succeeded,
      cpu: { ...all.cpu, worldCheck: round((w1 - w0) / wallS, 2), mainElu: round(elu.utilization, 2) },
      threads: perThread,
      appCpuMsPerMailbox: round((all.cpu.app * all.wallMs) / N, 1),
      worldCpuMsPerMailbox: round(((w1 - w0) * 1000) / N, 1),
      pgServerCpuMsPerMailbox: pgdb ? round((pgCpuS * 1000) / N, 1) : undefined,
      mainThreadCpuMsPerMailbox: round(((perThreadS(th0, th1, process.pid) ?? 0) * 1000) / N, 1),
      // Where the wall goes: request, first claim, last final write; slots busy = Σ job time ÷ (C × claim→last write).
      wallParts: wallParts(all.runs, all.requestMs, C),
    }),
  );
  if (process.env.SQL) {
    const total = [...shapes.values()].reduce((a, b) => a + b, 0);
    console.log(`statements: ${total} (${round(total / N, 1)} per mailbox)`);
    for (const [k, v] of [...shapes].sort((a, b) => b[1] - a[1]).slice(0, 40))
      console.log(
        String(v).padStart(6),
        round(v / N, 2)
          .toString()
          .padStart(5),
        k,
      );
  }
  void median;
  await inst.close();
} finally {
  await world.close();
  dir?.remove();
  await pgdb?.drop();
}
process.exit(0);
