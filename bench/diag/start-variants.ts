// Diagnostic: cold start and idle RSS of the PGlite server, tsx vs compiled JS (tsc into a temp dir) and V8/glibc knobs, interleaved. Usage: tsx bench/diag/start-variants.ts [runs]
import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { spawnServer, memoryOf } from '../start.ts';
import { ROOT, baseEnv, median, round, sleep, tempDir, waitForQuiet } from '../util.ts';

const runs = Number(process.argv[2] ?? 3);
const out = tempDir('js');
spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', out.path],
  { stdio: 'ignore' },
); // type errors elsewhere do not stop the emit
for (const x of ['views', 'public', 'prisma', 'node_modules', 'package.json'])
  symlinkSync(join(ROOT, x), join(out.path, x));
const data = tempDir('variants');
const env = baseEnv({ DATA_DIR: join(data.path, 'data') });
const variants: Record<string, { entry?: string[]; cwd?: string; args?: string[]; env?: Record<string, string> }> = {
  'tsx (npm start)': {},
  'compiled JS (tsc build)': { entry: ['src/server.js'], cwd: out.path },
  'compiled JS, --max-semi-space-size=4': {
    entry: ['src/server.js'],
    cwd: out.path,
    args: ['--max-semi-space-size=4'],
  },
  'compiled JS, MALLOC_ARENA_MAX=2': { entry: ['src/server.js'], cwd: out.path, env: { MALLOC_ARENA_MAX: '2' } },
};
const first = await spawnServer(env, { timeoutMs: 120_000 });
await first.stop(); // create + migrate
const res: Record<string, { start: number[]; rss: number[] }> = {};
for (let i = 0; i < runs; i++)
  for (const [name, v] of Object.entries(variants)) {
    await waitForQuiet(20_000);
    const s = await spawnServer({ ...env, ...v.env }, v);
    await sleep(5000);
    const m = memoryOf(s.child.pid!);
    await s.stop();
    (res[name] ??= { start: [], rss: [] }).start.push(round(s.startMs));
    res[name].rss.push(m.VmRSS);
  }
for (const [name, r] of Object.entries(res))
  console.log(
    `${name.padEnd(40)} start median ${round(median(r.start))} ms ${JSON.stringify(r.start)}  idle RSS median ${median(r.rss)} MB ${JSON.stringify(r.rss)}`,
  );
out.remove();
data.remove();
