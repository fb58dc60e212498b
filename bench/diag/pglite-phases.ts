// Diagnostic: where a list page's database CPU goes on PGlite (decision 039). The pages seed (+ EMAILS emails, default
// 100,000), the app in process catching the statements each page runs; then the database reopened in process (no
// thread) and each page's list statement measured, REPEAT times per round over ROUNDS rounds, CPU of the process per
// statement:
//   query      — PGlite's query() as the database thread runs it (parse, describe, bind, describe, execute, sync:
//                six calls into WASM, the rows parsed by its JS protocol parser)
//   raw        — the same messages in one protocol buffer, the reply not parsed (WASM's share of `query`)
//   named      — Bind/Execute/Sync of a statement prepared once by name (plan_cache_mode auto; which plans it ran)
//   custom     — the same with plan_cache_mode = force_custom_plan (planned at every call, not parsed)
//   generic    — the same with plan_cache_mode = force_generic_plan (no planning at all)
//   plan/exec  — EXPLAIN (ANALYZE, TIMING OFF, SUMMARY)'s planning and execution times (ms, wall, in WASM)
// and through the app's path (PGliteRemote: the thread, the copy between threads, the main thread's parse): `remote`.
// Usage: tsx bench/diag/pglite-phases.ts [repeat] [rounds] [/path …]
import { join } from 'node:path';
import { PGlite, protocol } from '@electric-sql/pglite';
import { loadConfig } from '../../src/config.ts';
import { pgliteOptions } from '../../src/db/pglite-options.ts';
import { openPglite } from '../../src/db/pglite-open.ts';
import { concat } from '../../src/db/pglite-prepared.ts';
import { seedEmails } from '../seed.ts';
import { baseEnv, round, tempDir } from '../util.ts';
import { openSeededPages, serveSignedIn } from './seeded.ts';

const [repeat = '30', rounds = '3', ...argPaths] = process.argv.slice(2);
const paths = argPaths.length
  ? argPaths
  : ['/mailboxes', '/mailboxes?q=mb12', '/mailboxes?page=150', '/profiles', '/emails', '/emails?q=delivery'];
const dir = tempDir('phases');
const dataDir = join(dir.path, 'data');
const config = loadConfig(baseEnv({ DATA_DIR: dataDir }));
const { db, seed } = await openSeededPages(config);
await seedEmails(db.raw, { emails: Number(process.env.EMAILS ?? 100000), mailboxes: 10000 });
await db.raw.exec('ANALYZE');

// 1. The statements of each page, caught where the app hands them to the database thread.
type Query = (sql: string, params?: unknown[], o?: unknown) => Promise<{ rows: unknown[] }>;
const handle = db.pglite as unknown as { query: Query };
const q = handle.query.bind(handle);
let seen: { sql: string; params: unknown[] }[] | undefined;
handle.query = async (sql, params, o) => {
  seen?.push({ sql, params: params ?? [] });
  return q(sql, params, o);
};
const { server, base, cookie } = await serveSignedIn(config, db, seed);
const pageStatements = new Map<string, { sql: string; params: unknown[] }[]>();
for (const p of paths) {
  await (await fetch(base + p, { headers: { cookie } })).text();
  seen = [];
  const res = await fetch(base + p, { headers: { cookie } });
  await res.text();
  pageStatements.set(p, seen);
  console.log(`${p}: ${res.status}, ${seen.length} statements`);
  for (const s of seen) console.log(`   ${s.sql.replace(/\s+/g, ' ').slice(0, 140)}`);
  seen = undefined;
}
server.close();
await db.close();

// 2. The list statement of each page: the longest one it ran.
const lists = [...pageStatements].map(([p, sts]) => {
  const st = [...sts].sort((a, b) => b.sql.length - a.sql.length)[0]!;
  return { path: p, ...st };
});
const text = (v: unknown) =>
  v === null || v === undefined
    ? null
    : v instanceof Date
      ? v.toISOString()
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);
const { serialize } = protocol;
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
async function measure(fn: () => Promise<unknown>, n: number) {
  for (let k = 0; k < 3; k++) await fn();
  const c0 = cpu();
  for (let k = 0; k < n; k++) await fn();
  return (cpu() - c0) / n;
}

const results = new Map<string, number[]>();
const add = (k: string, v: number) => results.set(k, [...(results.get(k) ?? []), round(v, 2)]);
// VACUUM=1: then VACUUM the database (PGlite has no autovacuum: its visibility map stays empty, so no index-only scan
// skips the heap) and measure again, rows marked `+vacuum`.
for (let r = 0; r < Number(rounds) * (process.env.VACUUM ? 2 : 1); r++) {
  const vacuumed = r >= Number(rounds);
  // In process, no thread: what the database thread does per statement.
  const pg = await PGlite.create(pgliteOptions({ dataDir: join(dataDir, 'pglite'), smallSharedBuffers: true }));
  if (r === Number(rounds)) {
    const c0 = cpu();
    const t0 = performance.now();
    await pg.exec('VACUUM');
    console.log(`VACUUM: ${round(performance.now() - t0)} ms wall, ${round(cpu() - c0)} ms CPU`);
  }
  for (const [i, l] of lists.entries()) {
    const values = l.params.map(text);
    const k = (what: string) => `${l.path.padEnd(22)} ${what}${vacuumed ? ' +vacuum' : ''}`;
    add(k('query'), await measure(() => pg.query(l.sql, l.params), Number(repeat)));
    const unnamed = concat([
      serialize.parse({ text: l.sql }),
      serialize.bind({ values }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    add(k('raw'), await measure(() => pg.execProtocolRaw(unnamed, { syncToFs: false }), Number(repeat)));
    const name = `s${i}_${r}`;
    await pg.execProtocolRaw(concat([serialize.parse({ name, text: l.sql }), serialize.sync()]));
    const named = concat([
      serialize.bind({ statement: name, values }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    add(k('named'), await measure(() => pg.execProtocolRaw(named, { syncToFs: false }), Number(repeat)));
    // Which plans plan_cache_mode = auto chose for it: custom (planned for the values) or generic.
    const chosen = await pg.query<{ g: number; c: number }>(
      `SELECT generic_plans::int AS g, custom_plans::int AS c FROM pg_prepared_statements WHERE name = $1`,
      [name],
    );
    add(k('named: generic plans run'), chosen.rows[0]!.g);
    add(k('named: custom plans run'), chosen.rows[0]!.c);
    await pg.exec('SET plan_cache_mode = force_custom_plan');
    const cname = `c${i}_${r}`;
    await pg.execProtocolRaw(concat([serialize.parse({ name: cname, text: l.sql }), serialize.sync()]));
    const custom = concat([
      serialize.bind({ statement: cname, values }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    add(k('custom'), await measure(() => pg.execProtocolRaw(custom, { syncToFs: false }), Number(repeat)));
    await pg.exec('SET plan_cache_mode = force_generic_plan');
    const gname = `g${i}_${r}`;
    await pg.execProtocolRaw(concat([serialize.parse({ name: gname, text: l.sql }), serialize.sync()]));
    const generic = concat([
      serialize.bind({ statement: gname, values }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    add(k('generic'), await measure(() => pg.execProtocolRaw(generic, { syncToFs: false }), Number(repeat)));
    await pg.exec('RESET plan_cache_mode');
    const ex = await pg.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, TIMING OFF, SUMMARY) ${l.sql}`, l.params);
    // PLANS=1: print the plans (first round, and first round after VACUUM).
    if (process.env.PLANS && (r === 0 || r === Number(rounds)))
      console.log(`\n${k('plan')}\n${ex.rows.map((x) => `    ${x['QUERY PLAN']}`).join('\n')}`);
    const t = (re: RegExp) =>
      Number(
        ex.rows
          .map((x) => x['QUERY PLAN'])
          .find((x) => re.test(x))
          ?.match(/([\d.]+) ms/)?.[1],
      );
    add(k('plan (EXPLAIN)'), t(/Planning Time/));
    add(k('exec (EXPLAIN)'), t(/Execution Time/));
  }
  await pg.close();
  if (vacuumed) continue;
  // Through the thread, as the app: the process's CPU (both threads, the copy, the main thread's parse).
  const remote = await openPglite(dataDir);
  for (const l of lists)
    add(`${l.path.padEnd(22)} remote`, await measure(() => remote.query(l.sql, l.params), Number(repeat)));
  await remote.close();
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`CPU ms per statement (process), ${repeat} × ${rounds} rounds; EXPLAIN rows are wall ms in WASM`);
for (const [k, v] of results) console.log(`${k.padEnd(40)} ${v.join(' ').padEnd(26)} median ${median(v)}`);
dir.remove();
process.exit(0);
