// Diagnostic: every SQL statement (count, total/max ms) an in-process server with jobs runs under autocannon on one page (PGlite). Usage: tsx bench/diag/page-load-sql.ts [path] [seconds]
import { createServer } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { PGlite } from '@electric-sql/pglite';
const stats = new Map<string, { n: number; ms: number; max: number }>();
let on = false;
const rec = (sql: string, ms: number) => {
  if (!on) return;
  const k = sql.replace(/\s+/g, ' ').slice(0, 120);
  const s = stats.get(k) ?? { n: 0, ms: 0, max: 0 };
  s.n++;
  s.ms += ms;
  s.max = Math.max(s.max, ms);
  stats.set(k, s);
};
for (const m of ['query', 'exec'] as const) {
  const orig = PGlite.prototype[m] as (...a: unknown[]) => Promise<unknown>;
  (PGlite.prototype as unknown as Record<string, unknown>)[m] = async function (this: PGlite, ...a: unknown[]) {
    const t = performance.now();
    try {
      return await orig.apply(this, a);
    } finally {
      rec(String(a[0]), performance.now() - t);
    }
  };
}
const { loadConfig } = await import('../../src/config.ts');
const { createSealer } = await import('../../src/security/secrets.ts');
const { createLogger } = await import('../../src/logger.ts');
const { buildDeps } = await import('../../src/compose.ts');
const { startWorkers } = await import('../../src/workers.ts');
const { createApp } = await import('../../src/app.ts');
const { openSeededPages } = await import('./seeded.ts');
const { signIn } = await import('../pages.ts');
const { baseEnv, tempDir } = await import('../util.ts');
const [path = '/mailboxes?sort=incoming&dir=asc', seconds = '5'] = process.argv.slice(2);
const dir = tempDir('loadsql');
const config = loadConfig(baseEnv({ DATA_DIR: join(dir.path, 'data') }));
const { db, seed } = await openSeededPages(config);
const logger = createLogger('warn');
const deps = buildDeps({ config, db, logger, sealer: createSealer(config.secretsKeys.current) });
const jobs = deps.jobs!;
const app = createApp(deps);
await startWorkers(deps);
const lat: Array<[number, number, string]> = [];
const T0 = performance.now();
const server = createServer((req, res) => {
  const t = performance.now();
  res.on('finish', () => {
    if (on) lat.push([Math.round(t - T0), Math.round(performance.now() - t), String(req.socket.remotePort)]);
  });
  app(req, res);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const cookie = await signIn(base, seed.adminEmail, seed.password);
on = true;
const r = await autocannon({ url: base + path, connections: 50, duration: Number(seconds), headers: { cookie } });
on = false;
console.log(path, Math.round(r.requests.average), 'req/s', JSON.stringify(r.latency));
for (const [k, v] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25))
  console.log(String(v.n).padStart(6), v.ms.toFixed(0).padStart(7), 'ms', v.max.toFixed(0).padStart(6), 'max', k);
lat.sort((a, b) => b[1] - a[1]);
console.log('slowest (start ms, took ms, client port):', JSON.stringify(lat.slice(0, 15)));
const byPort = new Map<string, number>();
for (const l of lat) byPort.set(l[2], (byPort.get(l[2]) ?? 0) + 1);
console.log('requests per connection:', JSON.stringify([...byPort.values()].sort((a, b) => a - b)));
server.close();
await jobs.stop();
await db.close();
dir.remove();
process.exit(0);
