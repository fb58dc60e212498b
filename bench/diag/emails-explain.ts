// Diagnostic: EXPLAIN ANALYZE of the Emails list's query shapes (default sort, a cursor page, the capped count, each
// filter, the search, a user's own emails) on PostgreSQL with the pages seed and N emails (default 100,000).
// Usage: tsx bench/diag/emails-explain.ts [emails]
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { loadConfig } from '../../src/config.ts';
import { createSealer } from '../../src/security/secrets.ts';
import { seedEmails, seedPages } from '../seed.ts';
import { baseEnv, benchPostgres } from '../util.ts';

const emails = Number(process.argv[2] ?? 100_000);
const pgdb = await benchPostgres('explain');
const config = loadConfig(baseEnv({ DATABASE_URL: pgdb.url }));
const db = await openDatabase(config);
try {
  await migrate(db);
  await seedPages(db.raw, db.prisma, createSealer(config.secretsKeys.current), {
    mailboxes: 10000,
    profiles: 50,
    vacuum: true,
  });
  await seedEmails(db.raw, { emails, mailboxes: 10000 });
  await db.raw.exec('VACUUM ANALYZE "Email"');
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
  const shapes: Array<[string, string]> = [
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
    [
      'search: delivery',
      `SELECT ${cols} FROM "Email" e WHERE e.subject ILIKE '%delivery%' OR e."fromAddress" ILIKE '%delivery%' OR e."fromName" ILIKE '%delivery%' ${order}`,
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
  for (const [name, sql] of shapes) {
    const plan = await db.raw.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`);
    console.log(`\n## ${name}\n${plan.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
  }
} finally {
  await db.close();
  await pgdb.drop();
}
process.exit(0);
