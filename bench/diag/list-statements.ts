// Diagnostic: where the mailbox list's database time goes on PGlite (or PostgreSQL) — the page's one statement
// (decision 028) and variants of it (without the capped count, the count alone, the grant joined per row, a trivial
// statement for the round trip), each run REPEAT times in turn over ROUNDS rounds, with the pages seed. Prints the
// process's CPU per statement (all threads: on PGlite that includes the database's thread) and the main thread's.
// Usage: tsx bench/diag/list-statements.ts [pglite|postgres] [repeat] [rounds]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { listMailboxes, mailboxList } from '../../src/mailboxes/list.ts';
import type { RawSql } from '../../src/db/client.ts';
import { baseEnv, benchPostgres, round, tempDir } from '../util.ts';
import { openSeededPages } from './seeded.ts';

const engine = process.argv[2] === 'postgres' ? 'postgres' : 'pglite';
const repeat = Number(process.argv[3] ?? 50);
const rounds = Number(process.argv[4] ?? 3);
const pgdb = engine === 'postgres' ? await benchPostgres('liststmts') : undefined;
const dir = engine === 'pglite' ? tempDir('liststmts') : undefined;
const config = loadConfig(baseEnv(pgdb ? { DATABASE_URL: pgdb.url } : { DATA_DIR: join(dir!.path, 'data') }));
const { db } = await openSeededPages(config);
const admin = { id: '00000000-0000-0000-0000-000000000000', role: 'ADMIN' as const };

const mainCpu = () => {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
/** The statement the app runs for a list query, caught on its way to the database. */
async function statementOf(query: Record<string, string>) {
  let got: { sql: string; params: unknown[] } | undefined;
  const spy: RawSql = {
    ...db.raw,
    query: async (sql, params) => {
      got ??= { sql, params: params ?? [] };
      return db.raw.query(sql, params);
    },
  };
  await listMailboxes(spy, admin, mailboxList.parse(query));
  return got!;
}
const withoutCount = (sql: string) => sql.replace(/, \(SELECT count\(\*\)[\s\S]*?\) AS capped/, '');
const countOnly = (sql: string) => {
  const m = sql.match(/\((SELECT count\(\*\)[\s\S]*?)\) AS capped/);
  return m ? m[1] : null;
};
/** The grant read per row by its unique index (OFFSET 0 keeps the planner from turning it back into a hash join). */
const grantPerRow = (sql: string) =>
  sql.replace(
    `LEFT JOIN "GmailGrant" g ON g."mailboxId" = m.id`,
    `LEFT JOIN LATERAL (SELECT * FROM "GmailGrant" g WHERE g."mailboxId" = m.id OFFSET 0) g ON true`,
  );

const variants: [string, string, unknown[]][] = [['SELECT 1', 'SELECT 1', []]];
for (const [name, query] of [
  ['/mailboxes', {}],
  ['?q=mb12', { q: 'mb12' }],
  ['?page=150', { page: '150' }],
] as const) {
  const st = await statementOf(query);
  variants.push([`${name} as the app`, st.sql, st.params]);
  const count = countOnly(st.sql);
  if (count) {
    variants.push([`${name} no count column`, withoutCount(st.sql), st.params]);
    // The count's own parameters are the filter's: the first ones of the statement, without LIMIT and OFFSET.
    variants.push([`${name} count alone`, count, st.params.slice(0, -2)]);
  }
  variants.push([`${name} grant per row`, grantPerRow(st.sql), st.params]);
}
const results = new Map<string, { all: number[]; main: number[] }>();
for (let r = 0; r < rounds; r++)
  for (const [name, sql, params] of variants) {
    for (let k = 0; k < 5; k++) await db.raw.query(sql, params);
    const c0 = process.cpuUsage();
    const m0 = mainCpu();
    for (let k = 0; k < repeat; k++) await db.raw.query(sql, params);
    const c = process.cpuUsage(c0);
    const all = (c.user + c.system) / 1000 / repeat;
    const main = ((mainCpu() - m0) * 1000) / repeat;
    const e = results.get(name) ?? { all: [], main: [] };
    e.all.push(round(all, 2));
    e.main.push(round(main, 2));
    results.set(name, e);
  }
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`${engine}, ${repeat} × ${rounds} rounds; CPU ms per statement: process (all threads), main thread`);
for (const [name, { all, main }] of results)
  console.log(`${name.padEnd(34)} all ${all.join(' ').padEnd(22)} median ${median(all)}   main median ${median(main)}`);
await db.close();
dir?.remove();
await pgdb?.drop();
process.exit(0);
