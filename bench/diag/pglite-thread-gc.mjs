// Diagnostic (decision 041): the database thread's memory after PGlite opens an existing data directory as the app
// opens it, then after one full collection in the thread. Usage: node bench/diag/pglite-thread-gc.mjs <copy of a data dir>
import { readFileSync } from 'node:fs';
const [dataDir] = process.argv.slice(2);
const st = () => {
  const s = readFileSync('/proc/self/status', 'utf8');
  const m = (k) => Math.round(Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)[1]) / 1024);
  return `rss ${m('VmRSS')} anon ${m('RssAnon')}`;
};
const w = new Worker(
  `
  const { workerData, parentPort } = require('node:worker_threads');
  const v8 = require('node:v8');
  const mem = () => { const h = v8.getHeapStatistics(); const m = process.memoryUsage(); return 'heap ' + Math.round(h.total_physical_size/1048576) + ' ext ' + Math.round(m.external/1048576) + ' ab ' + Math.round(m.arrayBuffers/1048576); };
  (async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
    const pg = await PGlite.create({ dataDir: workerData.dataDir, extensions: { pg_trgm }, startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] });
    await pg.query('select 1');
    parentPort.postMessage('open ' + mem());
    parentPort.on('message', async (m) => {
      if (m === 'gc') { v8.setFlagsFromString('--expose-gc'); require('node:vm').runInNewContext('gc')(); parentPort.postMessage('gc ' + mem()); }
      if (m === 'close') { await pg.close(); parentPort.postMessage('closed'); parentPort.close(); }
    });
  })();
`,
  { eval: true, workerData: { dataDir } },
);
const wait = () => new Promise((r) => w.once('message', r));
console.log(await wait(), st());
await new Promise((r) => setTimeout(r, 3000));
console.log('idle 3s', st());
w.postMessage('gc');
console.log(await wait());
await new Promise((r) => setTimeout(r, 500));
console.log('after gc', st());
w.postMessage('close');
console.log(await wait());
