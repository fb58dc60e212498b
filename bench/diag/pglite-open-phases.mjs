// Diagnostic (decision 037): where opening PGlite in its thread goes, phase by phase, in a fresh process per run.
// Usage: node bench/diag/pglite-open-phases.mjs <existing data dir> [variant]; prints one JSON line of ms since spawn.
// Variants: plain (as the app opens it), lazy (V8 --wasm-lazy-compilation), pre (wasm and fs bundle read in parallel).
import { Worker } from 'node:worker_threads';
const [dataDir, variant = 'plain'] = process.argv.slice(2);
const t0 = performance.timeOrigin;
const worker = new Worker(
  `
  const { workerData, parentPort } = require('node:worker_threads');
  const marks = {}; const mark = (n) => { marks[n] = performance.timeOrigin + performance.now() - workerData.t0; };
  mark('thread');
  const wi = WebAssembly.instantiate; let n = 0;
  WebAssembly.instantiate = async function (...a) { const k = n++; mark('wasm' + k + '.start'); const r = await wi.apply(this, a); mark('wasm' + k + '.end'); return r; };
  (async () => {
    if (workerData.variant === 'lazy') require('node:v8').setFlagsFromString('--wasm-lazy-compilation');
    const { PGlite } = await import('@electric-sql/pglite');
    const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
    mark('imported');
    const opts = { dataDir: workerData.dataDir, extensions: { pg_trgm },
      startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] };
    const pg = await PGlite.create(opts);
    mark('created');
    await pg.query("SELECT b.oid, b.typarray FROM pg_catalog.pg_type a LEFT JOIN pg_catalog.pg_type b ON b.oid = a.typelem WHERE a.typcategory = 'A' GROUP BY b.oid, b.typarray ORDER BY b.oid");
    mark('arrays');
    await pg.query('SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL');
    mark('migrations-check');
    await pg.query('SELECT count(*) FROM "User"').catch(() => pg.query('SELECT 1'));
    mark('count');
    await pg.close();
    parentPort.postMessage(marks);
  })();
  `,
  { eval: true, workerData: { dataDir, variant, t0 } },
);
worker.on('message', (m) => {
  console.log(
    JSON.stringify({
      variant,
      main: performance.now(),
      ...Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v)])),
    }),
  );
});
