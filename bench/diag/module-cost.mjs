// Diagnostic: time, RSS and V8 heap one import adds to a fresh process. Usage: node --expose-gc --max-semi-space-size=4 bench/diag/module-cost.mjs <package or ./dist/src/… file>
import { readFileSync } from 'node:fs';
const spec = process.argv[2];
const st = () => {
  globalThis.gc();
  const s = readFileSync('/proc/self/status', 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)[1]) / 1024, heap: process.memoryUsage().heapUsed / 2 ** 20 };
};
const a = st();
const t0 = performance.now();
await import(spec.startsWith('./') ? new URL(`../../${spec.slice(2)}`, import.meta.url).href : spec);
const t = performance.now() - t0;
const b = st();
console.log(
  `${spec.padEnd(70)} ${t.toFixed(0).padStart(5)} ms  rss +${(b.rss - a.rss).toFixed(1)} MB  heap +${(b.heap - a.heap).toFixed(1)} MB`,
);
