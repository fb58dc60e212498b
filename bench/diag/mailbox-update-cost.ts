// Diagnostic (decision 034): what a Test & Enable outcome's Mailbox update costs with and without the list's three
// indexes of migration 20261202011135 (name+id b-tree, trigram GIN on name and on emailAddress). Every status update
// writes a new row version into every index of Mailbox (incomingStatus is indexed, so no update is HOT).
// `ENGINE=pglite|postgres N=1000 ROUNDS=3 npx tsx bench/diag/mailbox-update-cost.ts`: N mailboxes named like the
// scale bench's, then rounds alternating with / without those indexes: N single-row updates one after another (as the
// jobs' outcomes), and one request-style update of all N; prints ms per update.
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { now, round } from '../util.ts';
import { openFreshDatabase } from './seeded.ts';

const ENGINE = (process.env.ENGINE ?? 'pglite') as 'pglite' | 'postgres';
const N = Number(process.env.N ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const { db, close } = await openFreshDatabase(ENGINE, 'mbupd');
try {
  const { raw } = db;
  const owner = randomUUID();
  await raw.query(
    `INSERT INTO "User" (id, email, name, "passwordHash", role, "updatedAt") VALUES ($1, $2, 'o', 'x', 'USER', now())`,
    [owner, `o-${owner}@bench.test`],
  );
  const tag = randomBytes(3).toString('hex');
  const ids = Array.from({ length: N }, () => randomUUID());
  await raw.query(
    `INSERT INTO "Mailbox" (id, name, "emailAddress", "ownerId", "updatedAt")
     SELECT id, 'bench-' || $2 || '-' || i || '@gmail.test', 'bench-' || $2 || '-' || i || '@gmail.test', $3, now()
     FROM unnest($1::text[]) WITH ORDINALITY AS t(id, i)`,
    [ids, tag, owner],
  );
  const drop = `DROP INDEX "Mailbox_name_id_idx"; DROP INDEX "Mailbox_name_trgm_idx"; DROP INDEX "Mailbox_emailAddress_trgm_idx"`;
  const create = `CREATE INDEX "Mailbox_name_id_idx" ON "Mailbox"("name", "id");
    CREATE INDEX "Mailbox_name_trgm_idx" ON "Mailbox" USING GIN ("name" gin_trgm_ops);
    CREATE INDEX "Mailbox_emailAddress_trgm_idx" ON "Mailbox" USING GIN ("emailAddress" gin_trgm_ops)`;
  const exec = async (sql: string) => {
    for (const s of sql.split(';')) if (s.trim()) await raw.query(s);
  };
  let withIdx = true;
  for (let r = 0; r < ROUNDS * 2; r++) {
    const status = r % 2 === 0 ? 'SUCCESS' : 'PENDING';
    const t0 = now();
    await raw.query(
      `UPDATE "Mailbox" SET "incomingStatus" = 'PENDING', "updatedAt" = now() WHERE id = ANY($1::text[])`,
      [ids],
    );
    const all = now() - t0;
    const t1 = now();
    for (const id of ids)
      await raw.query(
        `UPDATE "Mailbox" SET "incomingStatus" = $2::"CheckStatus", "lastTestCompletedAt" = now(), "updatedAt" = now() WHERE id = $1`,
        [id, status === 'SUCCESS' ? 'SUCCESS' : 'FAILURE'],
      );
    const one = (now() - t1) / N;
    console.log(
      JSON.stringify({
        engine: ENGINE,
        indexes: withIdx ? 'with the list indexes' : 'without',
        load: round(loadavg()[0], 1),
        msPerUpdate: round(one, 3),
        requestUpdateAllMs: round(all),
      }),
    );
    await exec(withIdx ? drop : create);
    withIdx = !withIdx;
  }
} finally {
  await close();
}
