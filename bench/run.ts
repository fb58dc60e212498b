// `npm run bench [-- --only=scale|pages|start --n=1000 --delay=20 --workers=50 --engines=pglite,postgres]`: runs the benches, writes bench/results/*.json.
import { parseArgs } from 'node:util';
import { benchScale } from './scale.ts';
import { benchPages } from './pages.ts';
import { benchStart } from './start.ts';
import { updateReadme } from './report.ts';
import { benchSync } from './sync.ts';
import { updateSyncReadme } from './sync-report.ts';
import { log, postgresReachable, round, writeResult, type Engine } from './util.ts';

const { values: a } = parseArgs({
  options: {
    only: { type: 'string' },
    n: { type: 'string', default: '1000' },
    delay: { type: 'string', default: '20' },
    workers: { type: 'string', default: '50' },
    engines: { type: 'string', default: 'pglite,postgres' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    mailboxes: { type: 'string', default: '10000' },
    'c1-seconds': { type: 'string', default: '60' },
    'quiet-wait': { type: 'string', default: '20' },
    'sync-many': { type: 'string', default: '200' },
    'sync-first': { type: 'string', default: '5000' },
    'sync-idle': { type: 'string', default: '100,1000' },
  },
});

const parts = a.only ? a.only.split(',') : ['scale', 'start', 'pages', 'sync'];
let engines = a.engines!.split(',').filter((e): e is Engine => e === 'pglite' || e === 'postgres');
if (engines.includes('postgres') && !(await postgresReachable())) {
  log('PostgreSQL is not reachable at BENCH_POSTGRES_URL / 127.0.0.1:5432: PGlite only');
  engines = engines.filter((e) => e !== 'postgres');
}

const quietWaitMs = Number(a['quiet-wait']) * 1000; // per measurement, waiting for other sessions' load to pass
const t0 = performance.now();
for (const part of parts) {
  const started = performance.now();
  let figures: unknown;
  if (part === 'scale')
    figures = await benchScale({
      engines,
      n: Number(a.n),
      delayMs: Number(a.delay),
      workers: Number(a.workers),
      singles: 5,
      c1BudgetSeconds: Number(a['c1-seconds']),
      quietWaitMs,
    });
  else if (part === 'pages')
    figures = await benchPages({
      engines,
      mailboxes: Number(a.mailboxes),
      profiles: 50,
      connections: Number(a.connections),
      durationSeconds: Number(a.duration),
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
      idle: a['sync-idle']!.split(',').map(Number),
      pollSeconds: 60,
    });
  else throw new Error(`unknown part ${part} (scale, pages, start, sync)`);
  const file = writeResult(part, { seconds: round((performance.now() - started) / 1000, 1), ...(figures as object) });
  log(`${part}: wrote ${file}`);
  updateReadme();
  updateSyncReadme();
}
log(`all done in ${round((performance.now() - t0) / 1000, 1)} s`);
process.exit(0);
