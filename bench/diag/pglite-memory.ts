// Diagnostic: PGlite's idle RSS under different memory options. Usage: node --expose-gc --import tsx bench/diag/pglite-memory.ts <pglite data dir> [shared_buffers] [initialMemoryMB]
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
const rss = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const s = readFileSync('/proc/self/status', 'utf8');
  const m = (k: string) => Math.round(Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)![1]) / 1024);
  return `rss ${m('VmRSS')} MB (anon ${m('RssAnon')}) ext ${Math.round(process.memoryUsage().external / 2 ** 20)} MB`;
};
const [dir, sb, im] = process.argv.slice(2);
const defaults = [
  '--single',
  '-F',
  '-O',
  '-j',
  '-c',
  'search_path=public',
  '-c',
  'exit_on_error=false',
  '-c',
  'log_checkpoints=false',
  '-c',
  'max_worker_processes=0',
  '-c',
  'max_parallel_workers=0',
  '-c',
  'max_parallel_workers_per_gather=0',
  '-c',
  'io_method=sync',
  '-c',
  'max_parallel_maintenance_workers=0',
];
const t0 = performance.now();
console.log('before', rss());
const p = await PGlite.create({
  dataDir: dir,
  ...(sb ? { startParams: [...defaults, '-c', `shared_buffers=${sb}`] } : {}),
  ...(im ? { initialMemory: Number(im) * 2 ** 20 } : {}),
});
console.log('open', Math.round(performance.now() - t0), 'ms', rss());
console.log((await p.query<{ shared_buffers: string }>('show shared_buffers')).rows[0]);
for (let i = 0; i < 200; i++) await p.query('select count(*) from pg_class');
await new Promise((r) => setTimeout(r, 2000));
console.log('idle', rss());
await p.close();
