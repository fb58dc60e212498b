// Diagnostic: 50 keep-alive connections looping GETs on a spawned server; per-connection counts, worst latencies. Usage: tsx bench/diag/fairness.ts [path] [seconds] [pglite|postgres]
import { join } from 'node:path';
import http from 'node:http';
import { loadConfig } from '../../src/config.ts';
import { openSeededPages } from './seeded.ts';
import { spawnServer } from '../start.ts';
import { signIn } from '../pages.ts';
import { baseEnv, benchPostgres, tempDir } from '../util.ts';

const [path = '/profiles', seconds = '8', engine = 'pglite'] = process.argv.slice(2);
const dir = engine === 'pglite' ? tempDir('fair') : undefined;
const pgdb = engine === 'postgres' ? await benchPostgres('fair') : undefined;
const env = baseEnv(dir ? { DATA_DIR: join(dir.path, 'data') } : { DATABASE_URL: pgdb!.url });
const config = loadConfig(env);
const { db, seed } = await openSeededPages(config);
await db.close();
const server = await spawnServer(env);
const cookie = await signIn(server.url, seed.adminEmail, seed.password);
const end = performance.now() + Number(seconds) * 1000;
const all: Array<{ c: number; ms: number; at: number }> = [];
const T0 = performance.now();
await Promise.all(
  Array.from({ length: 50 }, async (_, c) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (performance.now() < end) {
      const t = performance.now();
      await new Promise<void>((resolve, reject) =>
        http
          .get(server.url + path, { agent, headers: { cookie } }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          })
          .on('error', reject),
      );
      all.push({ c, ms: Math.round(performance.now() - t), at: Math.round(t - T0) });
    }
    agent.destroy();
  }),
);
const per = new Map<number, number>();
for (const x of all) per.set(x.c, (per.get(x.c) ?? 0) + 1);
const lat = all.map((x) => x.ms).sort((a, b) => a - b);
console.log(
  `${all.length} requests, ${Math.round(all.length / Number(seconds))} req/s, p50 ${lat[lat.length >> 1]} p90 ${lat[Math.floor(lat.length * 0.9)]} p99 ${lat[Math.floor(lat.length * 0.99)]} max ${lat[lat.length - 1]}`,
);
console.log('per connection:', JSON.stringify([...per.values()].sort((a, b) => a - b)));
console.log('slowest:', JSON.stringify(all.sort((a, b) => b.ms - a.ms).slice(0, 10)));
await server.stop();
dir?.remove();
await pgdb?.drop();
process.exit(0);
