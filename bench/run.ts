// `npm run bench [-- --quick --only=scale|busy-pages|start|pages|sync --n=1000 --delay=20 --workers=50 --engines=pglite,postgres]`:
// runs the benches, writes bench/results/*.json, prints the goals and how long each part took.
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { rerunWithBenchCa } from './ca-rerun.ts';
import { benchScale } from './scale.ts';
import { benchPages } from './pages.ts';
import { benchBusyPages } from './busy-pages.ts';
import { benchStart } from './start.ts';
import { printGoals, updateReadme } from './report.ts';
import { benchSync } from './sync.ts';
import { updateSyncReadme } from './sync-report.ts';
import { ROOT, log, postgresReachable, round, writeResult, type Engine } from './util.ts';

// Google's token endpoint is HTTPS, so the bench's is too (world.ts): the app must trust the bench CA, which Node's
// fetch reads only at start-up from NODE_EXTRA_CA_CERTS. So the bench makes the CA, then runs itself again with it.
rerunWithBenchCa('bench');
// npm start's compiled server is what the start and pages parts run: build it if src/ changed.
execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });

// Issue 15's sizes are the defaults. --quick: smaller sizes, stated in the output and the result files, for a check
// that everything runs (goals measured below their sizes are shown with why they do not count). Explicit options win.
const FULL = {
  n: '1000',
  delay: '20',
  workers: '50',
  engines: 'pglite,postgres',
  duration: '10',
  connections: '10',
  mailboxes: '10000',
  emails: '100000',
  c1: '200',
  'quiet-wait': '20',
  'busy-sync': 'off',
  'sync-many': '200',
  'sync-first': '5000',
  'sync-idle': '100,1000',
  'sync-hibernate': '0',
};
const QUICK: typeof FULL = {
  ...FULL,
  n: '300',
  duration: '5',
  c1: '50',
  emails: '20000',
  'quiet-wait': '10',
  'sync-many': '50',
  'sync-first': '1000',
  'sync-idle': '100',
};
const { values: given } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    ...(Object.fromEntries(Object.keys(FULL).map((k) => [k, { type: 'string' }])) as Record<
      keyof typeof FULL,
      { type: 'string' }
    >),
  },
});
const sizes = given.quick ? QUICK : FULL;
const a = {
  ...sizes,
  ...Object.fromEntries(Object.entries(given).filter(([, x]) => x !== undefined)),
} as typeof FULL & {
  only?: string;
  quick: boolean;
};
if (a.quick)
  log(
    `--quick: N = ${a.n}, C = 1 over ${a.c1}, ${a.duration} s per autocannon run, sync ${a['sync-many']} / ${a['sync-first']} / ${a['sync-idle']} (issue 15's sizes: N = 1000, C = 1 over 200, 10 s): goals measured below their sizes do not count`,
  );

const parts = a.only ? a.only.split(',') : ['scale', 'busy-pages', 'start', 'pages', 'sync'];
let engines = a.engines.split(',').filter((e): e is Engine => e === 'pglite' || e === 'postgres');
if (engines.includes('postgres') && !(await postgresReachable())) {
  log('PostgreSQL is not reachable at BENCH_POSTGRES_URL / 127.0.0.1:5432: PGlite only');
  engines = engines.filter((e) => e !== 'postgres');
}

const quietWaitMs = Number(a['quiet-wait']) * 1000; // per measurement, waiting for other sessions' load to pass
const t0 = performance.now();
const took: string[] = [];
for (const part of parts) {
  const started = performance.now();
  let figures: unknown;
  if (part === 'scale')
    figures = await benchScale({
      engines,
      n: Number(a.n),
      delayMs: Number(a.delay),
      workers: Number(a.workers),
      singles: 9,
      c1Min: Number(a.c1),
      quietWaitMs,
    });
  else if (part === 'pages')
    figures = await benchPages({
      engines,
      mailboxes: Number(a.mailboxes),
      profiles: 50,
      emails: Number(a.emails),
      connections: Number(a.connections),
      durationSeconds: Number(a.duration),
      quietWaitMs,
    });
  else if (part === 'busy-pages')
    figures = await benchBusyPages({
      engines,
      n: Number(a.n),
      delayMs: Number(a.delay),
      workers: Number(a.workers),
      connections: Number(a.connections),
      durationSeconds: Number(a.duration),
      sync: a['busy-sync'] === 'on' ? 'on' : 'off',
      quietWaitMs,
    });
  else if (part === 'start') figures = await benchStart({ engines, runs: 3, idleSeconds: 5, quietWaitMs });
  else if (part === 'sync')
    figures = await benchSync({
      quietWaitMs,
      many: Number(a['sync-many']),
      rounds: 5,
      firstSync: Number(a['sync-first']),
      bodyBytes: 4096,
      idle: a['sync-idle'].split(',').map(Number),
      pollSeconds: 60,
      hibernateSeconds: Number(a['sync-hibernate']),
    });
  else throw new Error(`unknown part ${part} (scale, busy-pages, start, pages, sync)`);
  const seconds = round((performance.now() - started) / 1000, 1);
  took.push(`${part} ${seconds} s`);
  const file = writeResult(part, { seconds, quick: a.quick, ...(figures as object) });
  log(`${part}: wrote ${file}`);
  updateReadme();
  updateSyncReadme();
}
const total = (performance.now() - t0) / 1000;
log(
  `all done in ${round(total, 1)} s (${round(total / 60, 1)} min): ${took.join(', ')}; load average now ${loadavg()
    .map((x) => round(x, 2))
    .join(' / ')}`,
);
process.stderr.write(`\nIssue 15's goals (from bench/results/):\n${printGoals()}\n`);
process.exit(0);
