// Diagnostic: the list pages' statements of one or more builds, run in process on PGlite over a seed kept on disk
// (decision 045): CPU per statement (median of ROUNDS rounds of REPEAT, builds alternated), lseek(SEEK_END) calls per
// statement, and with EXPLAIN=1 each statement's EXPLAIN (ANALYZE, BUFFERS). The seed (the pages seed + 100,000 emails,
// VACUUM ANALYZE, as bench/pages.ts makes it) is made in <seed-dir> on the first run and reused after (≈ 1 minute).
// A folder is a checkout whose src/ holds the list modules (src/generated/prisma included).
// Usage: tsx bench/diag/statement-cpu.ts <seed-dir> <repeat> <rounds> <folder> [<folder> …]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { loadConfig } from '../../src/config.ts';
import { pgliteOptions } from '../../src/db/pglite-options.ts';
import type { RawSql } from '../../src/db/client.ts';
import { seedEmails } from '../seed.ts';
import { baseEnv, round } from '../util.ts';
import { openSeededPages } from './seeded.ts';

const [seedDir, repeat = '30', rounds = '3', ...folders] = process.argv.slice(2);
if (!seedDir || !folders.length) throw new Error('usage: statement-cpu.ts <seed-dir> <repeat> <rounds> <folder>…');
const dataDir = resolve(seedDir, 'data');
if (!existsSync(join(dataDir, 'pglite', 'PG_VERSION'))) {
  const { db } = await openSeededPages(loadConfig(baseEnv({ DATA_DIR: dataDir })));
  await seedEmails(db.raw, { emails: 100000, mailboxes: 10000 });
  await db.raw.exec('VACUUM ANALYZE');
  await db.close();
}

/** Each page's list statement as a build's code writes it (its first statement, caught before it reaches a database). */
async function statementsOf(folder: string) {
  const src = resolve(folder, 'src');
  const { listMailboxes, mailboxList } = await import(join(src, 'mailboxes/list.ts'));
  const { listProfiles, profileList } = await import(join(src, 'profiles/list.ts'));
  const { listEmails, emailList } = await import(join(src, 'emails/list.ts'));
  const admin = { id: '00000000-0000-0000-0000-000000000000', role: 'ADMIN' as const };
  const out: { page: string; sql: string; params: unknown[] }[] = [];
  const caught = (page: string): RawSql => ({
    query: async (sql, params) => {
      out.push({ page, sql, params: params ?? [] });
      throw new Error('caught');
    },
    exec: async () => undefined,
  });
  const pages: [string, (sql: RawSql) => Promise<unknown>][] = [
    ['/mailboxes', (s) => listMailboxes(s, admin, mailboxList.parse({}))],
    ['/mailboxes?q=mb12', (s) => listMailboxes(s, admin, mailboxList.parse({ q: 'mb12' }))],
    ['/mailboxes?page=150', (s) => listMailboxes(s, admin, mailboxList.parse({ page: '150' }))],
    ['/profiles', (s) => listProfiles(s, profileList.parse({}))],
    ['/emails', (s) => listEmails(s, admin, emailList.parse({}))],
    ['/emails?q=delivery', (s) => listEmails(s, admin, emailList.parse({ q: 'delivery' }))],
  ];
  for (const [page, read] of pages) await read(caught(page)).catch(() => undefined);
  return out;
}

const statements = [];
for (const folder of folders) for (const s of await statementsOf(folder)) statements.push({ ...s, folder });
const pg = await PGlite.create(pgliteOptions({ dataDir: join(dataDir, 'pglite'), smallSharedBuffers: true }));
// lseek(SEEK_END) calls (PostgreSQL asking a file's length), counted on NODEFS's stream operations.
const ops = (pg as unknown as { mod: { FS: { filesystems: { NODEFS: { stream_ops: Record<string, unknown> } } } } }).mod
  .FS.filesystems.NODEFS.stream_ops;
const llseek = ops.llseek as (...a: unknown[]) => number;
let seeks = 0;
ops.llseek = (...a: unknown[]) => {
  if (a[2] === 2) seeks++;
  return llseek(...a);
};
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const results = new Map<string, { cpu: number[]; seeks: number }>();
for (let r = 0; r < Number(rounds); r++)
  for (const s of statements) {
    const key = `${s.page.padEnd(22)} ${s.folder}`;
    if (r === 0 && process.env.EXPLAIN) {
      const ex = await pg.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`, s.params);
      console.log(`\n${key}\n${ex.rows.map((x) => `  ${x['QUERY PLAN']}`).join('\n')}`);
    }
    for (let k = 0; k < 3; k++) await pg.query(s.sql, s.params);
    seeks = 0;
    const c0 = cpu();
    for (let k = 0; k < Number(repeat); k++) await pg.query(s.sql, s.params);
    const e = results.get(key) ?? { cpu: [], seeks: 0 };
    e.cpu.push(round((cpu() - c0) / Number(repeat), 2));
    e.seeks = seeks / Number(repeat);
    results.set(key, e);
  }
await pg.close();
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`CPU ms per statement in process (${repeat} × ${rounds} rounds), and lseek(SEEK_END) calls per statement`);
for (const [key, v] of results)
  console.log(`${key.padEnd(60)} ${v.cpu.join(' ').padEnd(28)} median ${median(v.cpu)}  seeks ${v.seeks}`);
process.exit(0);
