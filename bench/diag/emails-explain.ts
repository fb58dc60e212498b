// Diagnostic: EXPLAIN ANALYZE of the Emails list's query shapes (default sort, a cursor page, the capped count, each
// filter, the search, a user's own emails) and of the mailbox list's search, with the pages seed and N emails
// (default 100,000), on PostgreSQL or PGlite (a data dir in a temporary folder, the app's own open).
// Usage: tsx bench/diag/emails-explain.ts [emails] [postgres|pglite]
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { seedEmails } from '../seed.ts';
import { baseEnv, benchPostgres, tempDir } from '../util.ts';
import { openSeededPages } from './seeded.ts';

const emails = Number(process.argv[2] ?? 100_000);
const engine = process.argv[3] === 'pglite' ? 'pglite' : 'postgres';
const pgdb = engine === 'postgres' ? await benchPostgres('explain') : undefined;
const dir = engine === 'pglite' ? tempDir('explain') : undefined;
const config = loadConfig(baseEnv(pgdb ? { DATABASE_URL: pgdb.url } : { DATA_DIR: join(dir!.path, 'data') }));
const { db } = await openSeededPages(config);
try {
  await seedEmails(db.raw, { emails, mailboxes: 10000 });
  // PGlite has no autovacuum (and VACUUM of a fresh table there only costs time): ANALYZE is what the planner needs.
  await db.raw.exec(engine === 'postgres' ? 'VACUUM ANALYZE "Email"' : 'ANALYZE "Email"');
  const [mid] = await db.raw.query<{ occurredAt: Date; id: string; mailboxId: string }>(
    `SELECT "occurredAt", id, "mailboxId" FROM "Email" ORDER BY "occurredAt" DESC, id DESC OFFSET 5000 LIMIT 1`,
  );
  const [owner] = await db.raw.query<{ ownerId: string }>(`SELECT "ownerId" FROM "Mailbox" WHERE id = $1`, [
    mid.mailboxId,
  ]);
  const mine = await db.raw.query<{ id: string }>(`SELECT id FROM "Mailbox" WHERE "ownerId" = $1`, [owner.ownerId]);
  const cols = `e.id, e.direction, e.status, e."fromAddress", e."fromName", e."to", e.subject, e."occurredAt", e."mailboxId"`;
  const order = `ORDER BY e."occurredAt" DESC, e.id DESC LIMIT 51`;
  const t = `'${mid.occurredAt.toISOString()}'::timestamptz`;
  const past = `e."occurredAt" <= ${t} AND (e."occurredAt" < ${t} OR (e."occurredAt" = ${t} AND e.id < '${mid.id}'))`;
  const mb = `m.id, m.name, m."emailAddress"`;
  // The lists' search (decision 032): LIKE on the lower-cased generated columns, which is what ILIKE computes.
  const mbWhere = (q: string) =>
    `WHERE m."nameLower" LIKE lower('%${q}%') OR m."emailAddressLower" LIKE lower('%${q}%')`;
  const emWhere = (q: string) =>
    `WHERE e."subjectLower" LIKE lower('%${q}%') OR e."fromAddressLower" LIKE lower('%${q}%') OR e."fromNameLower" LIKE lower('%${q}%')`;
  const mbSearch = (q: string) => `SELECT ${mb} FROM "Mailbox" m ${mbWhere(q)} ORDER BY m.name, m.id LIMIT 51`;
  const shapes: Array<[string, string]> = [
    ['mailbox list, page 1', `SELECT ${mb} FROM "Mailbox" m ORDER BY m.name, m.id LIMIT 51`],
    ['mailbox search: mb12', mbSearch('mb12')],
    [
      'mailbox search: mb12, capped count',
      `SELECT count(*) FROM (SELECT 1 FROM "Mailbox" m ${mbWhere('mb12')} LIMIT 5001) c`,
    ],
    ['default sort, page 1', `SELECT ${cols} FROM "Email" e ${order}`],
    ['default sort, a cursor 5,000 rows in', `SELECT ${cols} FROM "Email" e WHERE ${past} ${order}`],
    ['capped count', `SELECT count(*) FROM (SELECT e.id FROM "Email" e LIMIT 1001) c`],
    ['filter: mailbox', `SELECT ${cols} FROM "Email" e WHERE e."mailboxId" = '${mid.mailboxId}' ${order}`],
    ['filter: direction OUTGOING', `SELECT ${cols} FROM "Email" e WHERE e.direction = 'OUTGOING' ${order}`],
    ['filter: status SENT', `SELECT ${cols} FROM "Email" e WHERE e.status = 'SENT' ${order}`],
    [
      'filter: since a date',
      `SELECT ${cols} FROM "Email" e WHERE e."occurredAt" >= now() - interval '3 days' ${order}`,
    ],
    ['search: delivery', `SELECT ${cols} FROM "Email" e ${emWhere('delivery')} ${order}`],
    ['search: a rare text (sender12@)', `SELECT ${cols} FROM "Email" e ${emWhere('sender12@')} ${order}`],
    [
      'search: delivery, capped count, ILIKE (before decision 032)',
      `SELECT count(*) FROM (SELECT 1 FROM "Email" e WHERE e.subject ILIKE '%delivery%' OR e."fromAddress" ILIKE '%delivery%' OR e."fromName" ILIKE '%delivery%' LIMIT 1001) c`,
    ],
    [
      'search: delivery, capped count',
      `SELECT count(*) FROM (SELECT 1 FROM "Email" e ${emWhere('delivery')} LIMIT 1001) c`,
    ],
    [
      "a user's own emails (Prisma's relation filter: a join)",
      `SELECT ${cols} FROM "Email" e LEFT JOIN "Mailbox" j0 ON j0.id = e."mailboxId" WHERE j0."ownerId" = '${owner.ownerId}' AND j0.id IS NOT NULL ${order}`,
    ],
    [
      "a user's own emails (their mailbox ids)",
      `SELECT ${cols} FROM "Email" e WHERE e."mailboxId" IN (${mine.map((m) => `'${m.id}'`).join(',')}) ${order}`,
    ],
    ['sort by From', `SELECT ${cols} FROM "Email" e ORDER BY e."fromAddress" ASC, e.id DESC LIMIT 51`],
    ['sort by Subject', `SELECT ${cols} FROM "Email" e ORDER BY e.subject ASC, e.id DESC LIMIT 51`],
  ];
  // EXPLAIN_SET="random_page_cost=1.1|a=1,b=2": the shapes again under each setting (or settings, by commas), SET LOCAL
  // in a transaction on one connection.
  for (const setting of ['', ...(process.env.EXPLAIN_SET ?? '').split('|').filter(Boolean)]) {
    if (setting) console.log(`\n# SET ${setting}`);
    await db.withConnection(async (c) => {
      await c.exec('BEGIN');
      for (const one of setting.split(',').filter(Boolean)) await c.exec(`SET LOCAL ${one}`);
      for (const [name, sql] of shapes) {
        const plan = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`);
        console.log(`\n## ${name}\n${plan.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
      }
      await c.exec('ROLLBACK');
    });
  }
} finally {
  await db.close();
  await pgdb?.drop();
  dir?.remove();
}
process.exit(0);
