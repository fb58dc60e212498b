// Diagnostic: RSS (after GC) at each start-up phase of Mailroom, to see where idle memory goes. Usage: node --expose-gc --import tsx bench/diag/memory.ts <DATA_DIR|postgres://…>
import { readFileSync } from 'node:fs';
const rss = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const s = readFileSync('/proc/self/status', 'utf8');
  const m = (k: string) => Math.round(Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)![1]) / 1024);
  return `rss ${m('VmRSS')} MB (anon ${m('RssAnon')}, file ${m('RssFile')}) heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB ext ${Math.round(process.memoryUsage().external / 2 ** 20)} MB ab ${Math.round(process.memoryUsage().arrayBuffers / 2 ** 20)} MB`;
};
const t0 = performance.now();
const lap = (what: string) =>
  console.log(`${what.padEnd(28)} ${String(Math.round(performance.now() - t0)).padStart(5)} ms  ${rss()}`);
lap('node + tsx');
const target = process.argv[2] ?? './data';
const only = process.argv[3];
if (only === 'pglite') {
  const { PGlite } = await import('@electric-sql/pglite');
  lap('import pglite');
  const p = await PGlite.create({ dataDir: target });
  lap('PGlite.create');
  await p.query('select 1');
  lap('select 1');
  await new Promise((r) => setTimeout(r, 3000));
  lap('idle 3 s');
  process.exit(0);
}
await import('express');
lap('import express');
await import('../../src/generated/prisma/client.ts');
lap('import prisma client');
await import('pg-boss');
lap('import pg-boss');
await import('imapflow');
await import('nodemailer');
lap('import imapflow+nodemailer');
const { loadConfig } = await import('../../src/config.ts');
const { createApp } = await import('../../src/app.ts');
lap('import app (all routes)');
const { openDatabase } = await import('../../src/db/client.ts');
const { migrate } = await import('../../src/db/migrate.ts');
const { buildDeps } = await import('../../src/compose.ts');
const { startWorkers } = await import('../../src/workers.ts');
const { createLogger } = await import('../../src/logger.ts');
const { createSealer } = await import('../../src/security/secrets.ts');
const env = target.startsWith('postgres') ? { DATABASE_URL: target } : { DATA_DIR: target };
const config = loadConfig({ ...process.env, ...env, SECRETS_KEY: 'a'.repeat(64), SESSION_SECRET: 'b'.repeat(64) });
const db = await openDatabase(config);
lap('open database');
await migrate(db);
lap('migrate (check)');
await db.prisma.user.count();
lap('first prisma query');
const logger = createLogger('warn');
const deps = buildDeps({ config, db, logger, sealer: createSealer(config.secretsKeys.current) });
const jobs = deps.jobs!;
const app = createApp(deps);
lap('createApp');
await startWorkers(deps);
lap('pg-boss started');
const { createServer } = await import('node:http');
const server = createServer(app);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as { port: number }).port;
await (await fetch(`http://127.0.0.1:${port}/login`)).text();
lap('GET /login');
await new Promise((r) => setTimeout(r, 5000));
lap('idle 5 s');
const v8 = await import('node:v8');
for (const sp of v8.getHeapSpaceStatistics())
  console.log(
    `  ${sp.space_name.padEnd(24)} size ${Math.round(sp.space_size / 2 ** 20)} MB used ${Math.round(sp.space_used_size / 2 ** 20)} MB phys ${Math.round(sp.physical_space_size / 2 ** 20)} MB`,
  );
const h = v8.getHeapStatistics();
console.log(
  `  total_physical ${Math.round(h.total_physical_size / 2 ** 20)} MB, malloced ${Math.round(h.malloced_memory / 2 ** 20)} MB, external ${Math.round(h.external_memory / 2 ** 20)} MB`,
);
server.close();
await jobs.stop();
await db.close();
process.exit(0);
