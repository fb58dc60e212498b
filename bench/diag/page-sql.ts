// Diagnostic: the SQL statements one signed-in GET runs (PGlite, the app's own open: traced on the main thread's handle); EXPLAIN=1 adds plans, REPEAT=n times each. Usage: tsx bench/diag/page-sql.ts [/path ...]
import { join } from 'node:path';
let trace: string[] | undefined;
const seen: Array<{ sql: string; params?: unknown[] }> = [];
const { loadConfig } = await import('../../src/config.ts');
const { openSeededPages, serveSignedIn } = await import('./seeded.ts');
const { baseEnv, tempDir } = await import('../util.ts');
const dir = tempDir('pagesql');
const env = baseEnv({ DATA_DIR: join(dir.path, 'data') });
const config = loadConfig(env);
const { db, seed } = await openSeededPages(config);
// The database runs in its thread (decision 024): the statements are traced where the app hands them over, on the
// main thread's handle (the raw driver and Prisma's adapter both call its query).
type Query = (sql: string, params?: unknown[], o?: unknown) => Promise<{ rows: unknown[] }>;
const handle = db.pglite as unknown as { query: Query };
const q = handle.query.bind(handle);
handle.query = async (sql, params, o) => {
  const t = performance.now();
  const r = await q(sql, params, o);
  if (trace) seen.push({ sql, params });
  trace?.push(
    `${(performance.now() - t).toFixed(2).padStart(6)} ms ${r.rows.length} rows  ${sql.replace(/\s+/g, ' ').slice(0, 150)}`,
  );
  return r;
};
const { server, base, cookie } = await serveSignedIn(config, db, seed);
for (const p of process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['/healthz', '/profiles', '/mailboxes?sort=incoming&dir=asc', `/mailboxes/${seed.mailboxIds[7]}`]) {
  await (await fetch(base + p, { headers: { cookie } })).text(); // warm
  trace = [];
  const t = performance.now();
  const res = await fetch(base + p, { headers: { cookie } });
  await res.text();
  const ms = performance.now() - t;
  console.log(`\n${p}: ${res.status} in ${ms.toFixed(1)} ms, ${trace.length} statements`);
  for (const l of trace) console.log(`  ${l}`);
  trace = undefined;
  if (process.env.EXPLAIN)
    for (const st of seen.splice(0)) {
      if (!/^SELECT/.test(st.sql) || /Session|"User"/.test(st.sql)) continue;
      const plan = (await q(`EXPLAIN (ANALYZE, BUFFERS) ${st.sql}`, st.params as unknown[])) as {
        rows: { 'QUERY PLAN': string }[];
      };
      console.log(`\n  ${st.sql.slice(0, 400)}\n  ${JSON.stringify(st.params)}`);
      for (const r of plan.rows) console.log(`    ${r['QUERY PLAN']}`);
    }
  if (process.env.REPEAT)
    for (const st of seen.splice(0)) {
      const n = Number(process.env.REPEAT);
      const t = performance.now();
      let rows = 0;
      for (let k = 0; k < n; k++) rows = (await q(st.sql, st.params as unknown[])).rows.length;
      console.log(
        `  ${((performance.now() - t) / n).toFixed(2).padStart(6)} ms avg  ${rows} rows  ${st.sql.replace(/\s+/g, ' ').slice(0, 100)}`,
      );
    }
  seen.length = 0;
}
server.close();
await db.close();
dir.remove();
process.exit(0);
