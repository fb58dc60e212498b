// Interactive transactions outlast Prisma's defaults (2 s to get a connection, 5 s in all): under load a healthy
// request's transaction took longer and the user's click answered 500 (src/db/client.ts TRANSACTION_OPTIONS).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDb, dbModes, type TestDb } from '../helpers/db.ts';

for (const mode of dbModes()) {
  describe(`transaction limits [${mode}]`, () => {
    let t: TestDb;
    before(async () => {
      t = await createTestDb(mode);
    });
    after(async () => {
      await t?.drop();
    });

    it('a transaction that runs longer than 5 s commits', async () => {
      const email = `slow-${mode}@example.test`;
      await t.db.prisma.$transaction(async (tx) => {
        await tx.user.create({ data: { email, name: 'Slow', passwordHash: 'x', role: 'USER' } });
        await sleep(5_500); // past Prisma's default 5 s limit
        await tx.user.update({ where: { email }, data: { name: 'Slow but done' } });
      });
      const u = await t.db.prisma.user.findUniqueOrThrow({ where: { email } });
      assert.equal(u.name, 'Slow but done');
    });

    it('a transaction that waits more than 2 s for a connection still starts (PostgreSQL pool)', async () => {
      if (mode !== 'postgres') return; // PGlite has one connection and queues statements itself
      // Hold every connection of the test pool (5) for 2.5 s, then ask for a transaction.
      const hold = Array.from({ length: 5 }, () =>
        t.db.withConnection(async (c) => {
          await c.query('SELECT pg_sleep(2.5)');
        }),
      );
      await sleep(200);
      const n = await t.db.prisma.$transaction(async (tx) => tx.user.count());
      assert.equal(typeof n, 'number');
      await Promise.all(hold);
    });
  });
}
