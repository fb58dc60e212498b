// Synchronization's bulk writes (Database.bulk, decision 025) take at most half the PostgreSQL pool, so a burst of
// them (200 mailboxes receiving at once) never leaves the heartbeat, ownership renewals or pages without a connection.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bulkSlots } from '../../src/db/client.ts';
import { Gate } from '../../src/db/gate.ts';
import { createTestDb, dbModes } from '../helpers/db.ts';

describe('bulk-write gate', () => {
  test('first come, first served, never more inside than the limit', async () => {
    const gate = new Gate(3);
    let inside = 0;
    let max = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        gate
          .run(async () => {
            order.push(i);
            inside++;
            max = Math.max(max, inside);
            await new Promise((r) => setTimeout(r, i % 3));
            inside--;
            if (i === 7) throw new Error('a failed write frees its place too');
          })
          .catch((e: Error) => assert.match(e.message, /frees its place/)),
      ),
    );
    assert.equal(max, 3);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
    assert.deepEqual(gate.stats, { inside: 0, waiting: 0 });
    assert.deepEqual([bulkSlots(10), bulkSlots(5), bulkSlots(2), bulkSlots(40)], [5, 2, 1, 20]);
  });

  if (dbModes().includes('postgres'))
    test('[postgres] a burst of bulk transactions leaves connections for everything else', async () => {
      const t = await createTestDb('postgres'); // pool of 5: 2 for bulk writes
      try {
        let inside = 0;
        let max = 0;
        let done = 0;
        const burst = Array.from({ length: 8 }, () =>
          t.db.bulk(() =>
            t.db.prisma.$transaction(
              async (tx) => {
                inside++;
                max = Math.max(max, inside);
                await tx.$executeRaw`SELECT pg_sleep(0.5)`;
                inside--;
                done++;
              },
              { timeout: 120_000, maxWait: 120_000 },
            ),
          ),
        );
        // While the burst holds its connections, a heartbeat-like write and a page-like read still get theirs.
        await new Promise((r) => setTimeout(r, 100));
        await t.db.raw.query(`SELECT 1`);
        await Promise.all([t.db.raw.query(`SELECT 2`), t.db.prisma.user.count()]);
        const doneWhenServed = done;
        await Promise.all(burst);
        assert.equal(max, 2, 'at most half the pool in bulk writes');
        assert.ok(doneWhenServed < 8, `the other queries waited for the whole burst (${doneWhenServed} of 8 done)`);
      } finally {
        await t.drop();
      }
    });
});
