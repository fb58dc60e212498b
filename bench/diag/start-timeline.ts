// Diagnostic (decision 041): where a cold start of the compiled PGlite server goes, for builds alternated A B A B….
// Usage: npx tsx bench/diag/start-timeline.ts <runs> name=<dir> …, each <dir> a copy of the checkout's dist/ (with
// node_modules, views, public, prisma, package.json linked beside it) whose JS was given lines
// `process.stderr.write("MARK " + JSON.stringify([name, Math.round(performance.now())]) + "\n")` at the points of
// interest (decision 041 lists the ones used). Prints per run each mark's ms since the process started, the first 200
// of /login, and the server's CPU to that 200 (user + system, all threads: less at the mercy of other load).
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnServer } from '../start.ts';
import { baseEnv, median, procCpuSeconds, round, tempDir } from '../util.ts';

const [runsArg, ...specs] = process.argv.slice(2);
const runs = Number(runsArg ?? 3);
const variants = specs.map((s) => ({ name: s.slice(0, s.indexOf('=')), dir: resolve(s.slice(s.indexOf('=') + 1)) }));
const data = variants.map(() => tempDir('start-timeline'));
const env = (k: number) => ({ ...baseEnv({ DATA_DIR: join(data[k].path, 'data') }), MALLOC_ARENA_MAX: '2' });
const args = ['--max-semi-space-size=4'];
const out: Record<string, { start: number[]; cpu: number[] }> = {};
try {
  for (const [k, v] of variants.entries())
    await (await spawnServer(env(k), { cwd: v.dir, args, timeoutMs: 300_000 })).stop();
  for (let i = 0; i < runs; i++)
    for (const [k, v] of variants.entries()) {
      const load = round(loadavg()[0], 1);
      const s = await spawnServer(env(k), { cwd: v.dir, args, timeoutMs: 300_000 });
      const cpu = round(procCpuSeconds(s.serverPid) * 1000);
      await s.stop();
      const marks = s
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('MARK '))
        .map((l) => JSON.parse(l.slice(5)) as [string, number]);
      (out[v.name] ??= { start: [], cpu: [] }).start.push(round(s.startMs));
      out[v.name].cpu.push(cpu);
      console.log(
        `${v.name} run ${i + 1} (load ${load}): ${marks.map(([n, t]) => `${n} ${t}`).join(', ')}; first 200 ${round(s.startMs)} ms; CPU ${cpu} ms`,
      );
    }
  for (const [name, r] of Object.entries(out))
    console.log(
      `${name}: first 200 median ${median(r.start)} ms ${JSON.stringify(r.start)}; CPU median ${median(r.cpu)} ms ${JSON.stringify(r.cpu)}`,
    );
} finally {
  for (const d of data) d.remove();
}
