// `npm run bench [-- --only=scale|pages|start --n=1000 --delay=20 --workers=50 --engines=pglite,postgres]`: runs the benches, writes bench/results/*.json.
import { parseArgs } from 'node:util';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCa } from '../test/fakes/mail/tls.ts';
import { benchScale } from './scale.ts';
import { benchPages } from './pages.ts';
import { benchStart } from './start.ts';
import { printGoals, updateReadme } from './report.ts';
import { benchSync } from './sync.ts';
import { updateSyncReadme } from './sync-report.ts';
import { ROOT, log, postgresReachable, round, writeResult, type Engine } from './util.ts';

// Google's token endpoint is HTTPS, so the bench's is too (world.ts): the app must trust the bench CA, which Node's
// fetch reads only at start-up from NODE_EXTRA_CA_CERTS. So the bench makes the CA, then runs itself again with it.
if (!process.env.BENCH_TLS_DIR) {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-tls-'));
  const ca = makeTestCa();
  writeFileSync(join(dir, 'ca.pem'), ca.caPem);
  writeFileSync(join(dir, 'cert.pem'), ca.certPem);
  writeFileSync(join(dir, 'key.pem'), ca.keyPem);
  const env = { ...process.env, BENCH_TLS_DIR: dir, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') };
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  rmSync(dir, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}
// npm start's compiled server is what the start and pages parts run: build it if src/ changed.
execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });

const { values: a } = parseArgs({
  options: {
    only: { type: 'string' },
    n: { type: 'string', default: '1000' },
    delay: { type: 'string', default: '20' },
    workers: { type: 'string', default: '50' },
    engines: { type: 'string', default: 'pglite,postgres' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    mailboxes: { type: 'string', default: '10000' },
    emails: { type: 'string', default: '100000' },
    c1: { type: 'string', default: '200' },
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
process.stderr.write(`\nIssue 15's goals (from bench/results/):\n${printGoals()}\n`);
process.exit(0);
