// Diagnostic: cold start and idle memory of the compiled server, broken down, for builds/flags alternated A B A B….
// Usage: npx tsx bench/diag/idle-breakdown.ts <pglite|postgres> <runs> <idle s> name=<dir>[:<node args, comma-separated>] …
// <dir> is a checkout (or a copy holding dist/, with node_modules, views, public, prisma, package.json beside it);
// `.` is this one. Each run: `node --max-semi-space-size=4 <args> dist/src/server.js` on the variant's own database
// made by its first start (PGlite data dir, or a PostgreSQL database dropped at the end), time to the first 200 of /login, then
// after <idle s> the server's smaps by kind (the node binary, other files, malloc's brk heap, anonymous memory, and the
// anonymous mappings holding ≥ 4 MB: a WASM memory is one of 128+ MB) and each thread's V8 heap (bench/diag/mem-probe.mjs).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnServer, memoryOf } from '../start.ts';
import { BENCH_DIR, baseEnv, benchPostgres, median, procCpuSeconds, round, sleep, tempDir } from '../util.ts';

const [engine, runsArg, idleArg, ...specs] = process.argv.slice(2);
const runs = Number(runsArg ?? 3);
const idleS = Number(idleArg ?? 5);
const variants = specs.map((s) => {
  const name = s.slice(0, s.indexOf('='));
  const [dir, args] = s.slice(s.indexOf('=') + 1).split(':');
  const all = args ? args.split(',') : [];
  // NAME=value entries are the server's environment (e.g. MALLOC_ARENA_MAX=2), the rest node's arguments.
  const env = Object.fromEntries(all.filter((a) => /^[A-Z_]+=/.test(a)).map((a) => a.split('=', 2)));
  return { name, dir: resolve(dir), args: all.filter((a) => !/^[A-Z_]+=/.test(a)), env };
});

function smapsBreakdown(pid: number) {
  const out: Record<string, { rss: number; pss: number }> = {};
  const big: string[] = []; // anonymous mappings holding ≥ 4 MB: size:rss
  let cur = { kind: '', size: 0, perms: '' };
  const add = (k: string, rss: number, pss: number) => {
    out[k] ??= { rss: 0, pss: 0 };
    out[k].rss += rss;
    out[k].pss += pss;
  };
  let rss = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const size = (Number.parseInt(head[2], 16) - Number.parseInt(head[1], 16)) / 2 ** 20;
      const path = head[4];
      const kind =
        path === process.execPath || path.endsWith('/node')
          ? 'node binary'
          : path.startsWith('/')
            ? 'other files'
            : path === '[heap]'
              ? 'brk heap (malloc)'
              : path === ''
                ? 'anon'
                : path;
      cur = { kind, size, perms: head[3] };
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) rss = Number(r[1]) / 1024;
    const p = /^Pss:\s+(\d+) kB/.exec(line);
    if (p) {
      add(cur.kind, rss, Number(p[1]) / 1024);
      if (cur.kind === 'anon' && rss >= 4)
        big.push(`${round(cur.size)}:${round(rss)}${cur.perms.includes('x') ? 'x' : ''}`);
    }
  }
  return {
    kinds: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, `${round(v.rss, 1)}/${round(v.pss, 1)}`])),
    big,
  };
}

// One database per variant (builds of different commits may differ in migrations), made by the variant's first start.
const dbs = await Promise.all(
  variants.map(async () => {
    const dir = engine === 'pglite' ? tempDir('idle-breakdown') : undefined;
    const pgdb = engine === 'postgres' ? await benchPostgres('idlebd') : undefined;
    const env = baseEnv(dir ? { DATA_DIR: join(dir.path, 'data') } : { DATABASE_URL: pgdb!.url });
    const remove = async () => {
      dir?.remove();
      await pgdb?.drop();
    };
    return { env, remove };
  }),
);
const probe = join(BENCH_DIR, 'diag', 'mem-probe.mjs');
const results: Record<string, Array<{ startMs: number; cpuMs: number; rss: number; pss: number; load: number }>> = {};
try {
  for (const [k, v] of variants.entries()) {
    const first = await spawnServer(dbs[k].env, { timeoutMs: 180_000, cwd: v.dir });
    await first.stop();
  }
  for (let i = 0; i < runs; i++) {
    for (const [k, v] of variants.entries()) {
      const load = loadavg()[0];
      const s = await spawnServer(
        { ...dbs[k].env, ...v.env },
        {
          cwd: v.dir,
          args: ['--max-semi-space-size=4', ...v.args, '--import', probe],
          timeoutMs: 120_000,
        },
      );
      const startCpu = procCpuSeconds(s.serverPid); // CPU to the first 200: less at the mercy of other load than the wall
      await sleep(idleS * 1000);
      const before = s.stderr().length;
      process.kill(s.serverPid, 'SIGUSR2');
      await sleep(500);
      const probes = s
        .stderr()
        .slice(before)
        .split('\n')
        .filter((l) => l.startsWith('{"probe"'))
        .map((l) => JSON.parse(l));
      const m = memoryOf(s.serverPid);
      const pss =
        Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${s.serverPid}/smaps_rollup`, 'utf8'))![1]) / 1024;
      const bd = smapsBreakdown(s.serverPid);
      await s.stop();
      (results[v.name] ??= []).push({
        startMs: round(s.startMs),
        cpuMs: round(startCpu * 1000),
        rss: m.VmRSS,
        pss: round(pss),
        load: round(load, 2),
      });
      console.log(
        `${v.name} run ${i + 1}: start ${round(s.startMs)} ms (CPU ${round(startCpu * 1000)} ms), RSS ${m.VmRSS} MB (PSS ${round(pss)}, peak ${m.VmHWM}), load ${round(load, 2)}`,
      );
      console.log(
        `  smaps rss/pss MB: ${JSON.stringify(bd.kinds)} large anonymous mappings (size:rss MB, x: executable): ${bd.big.join(' ')}`,
      );
      for (const p of probes)
        console.log(
          `  ${p.thread}: heap ${p.heapPhysicalMB} MB physical (used ${p.heapUsedMB}), malloced ${p.mallocedMB}, external ${p.externalMB}${p.arrayBuffersMB !== undefined ? `, arrayBuffers ${p.arrayBuffersMB}` : ''} ${JSON.stringify(p.spaces)}`,
        );
    }
  }
  console.log('\nmedians:');
  for (const [name, rs] of Object.entries(results))
    console.log(
      `${name}: start ${median(rs.map((r) => r.startMs))} ms, CPU to the 200 ${median(rs.map((r) => r.cpuMs))} ms, RSS ${median(rs.map((r) => r.rss))} MB, PSS ${median(rs.map((r) => r.pss))} MB (starts ${rs.map((r) => r.startMs).join(', ')}; CPU ${rs.map((r) => r.cpuMs).join(', ')}; RSS ${rs.map((r) => r.rss).join(', ')}; load ${rs.map((r) => r.load).join(', ')})`,
    );
} finally {
  for (const d of dbs) await d.remove();
}
