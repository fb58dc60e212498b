// The process registry on both engines: heartbeat, liveness, reaping with its cascades, and the self-fencing rule.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/db/client.ts';
import { registerProcess } from '../../src/cluster/registry.ts';
import { isAlive, liveProcesses } from '../../src/cluster/liveness.ts';
import { createTestDb, dbModes } from '../helpers/db.ts';
import { until } from '../helpers/until.ts';

const FAST = { heartbeatMs: 100, deadAfterMs: 3_000 };

/** The real database with a switch that makes every raw query fail, as if the network to it were down. */
function withOutage(db: Database) {
  let down = false;
  const fail = () => Promise.reject(Object.assign(new Error('connection terminated'), { code: 'ECONNRESET' }));
  const cut = (sql: Database['raw']): Database['raw'] => ({
    query: (s, p) => (down ? fail() : sql.query(s, p)),
    exec: (s) => (down ? fail() : sql.exec(s)),
  });
  // Both connections: the pool's and the heartbeat's own (db.control).
  const faulty: Database = { ...db, raw: cut(db.raw), control: cut(db.control) };
  return {
    db: faulty,
    setDown: (v: boolean) => {
      down = v;
    },
  };
}

for (const mode of dbModes()) {
  describe(`process registry [${mode}]`, () => {
    test('registers, heartbeats, is alive; deregisters on stop', async () => {
      const t = await createTestDb(mode);
      try {
        const reg = await registerProcess(t.db, { role: 'worker', timing: FAST });
        assert.equal(await isAlive(t.db.raw, reg.id, FAST), true);
        const [before] = await t.db.raw.query<{ heartbeatAt: Date }>(
          'SELECT "heartbeatAt" FROM "WorkerProcess" WHERE id = $1',
          [reg.id],
        );
        await until('a later heartbeat', async () => {
          const [row] = await t.db.raw.query<{ heartbeatAt: Date }>(
            'SELECT "heartbeatAt" FROM "WorkerProcess" WHERE id = $1',
            [reg.id],
          );
          return row.heartbeatAt > before.heartbeatAt || undefined;
        });
        const live = await liveProcesses(t.db.raw, FAST);
        assert.deepEqual(
          live.map((p) => [p.id, p.role, p.pid]),
          [[reg.id, 'worker', process.pid]],
        );
        assert.equal(reg.leaseValid(), true);
        await reg.stop();
        assert.equal(await isAlive(t.db.raw, reg.id, FAST), false);
        assert.equal(reg.leaseValid(), false);
        assert.equal(await isAlive(t.db.raw, 'no-such-process', FAST), false);
      } finally {
        await t.drop();
      }
    });

    test('a stale process is dead for good: reaped with its slots and mailboxes, it learns so and rejoins', async () => {
      const t = await createTestDb(mode);
      const slow = { heartbeatMs: 60_000, deadAfterMs: 3_000 }; // no automatic beat during the test
      try {
        const a = await registerProcess(t.db, { role: 'worker', timing: slow });
        const b = await registerProcess(t.db, { role: 'worker', timing: slow });
        await t.db.raw.query(
          `INSERT INTO "ConnectionSlot" (id, key, "holderId", purpose) VALUES ('s1', 'k', $1, 'test')`,
          [a.id],
        );
        const lost: string[] = [];
        a.onLost((reason) => lost.push(reason));
        await t.db.raw.query(`UPDATE "WorkerProcess" SET "heartbeatAt" = now() - interval '1 hour' WHERE id = $1`, [
          a.id,
        ]);
        assert.equal(await isAlive(t.db.raw, a.id, slow), false);
        assert.equal(await b.beat(), true); // b's heartbeat reaps a
        assert.equal((await t.db.raw.query('SELECT 1 FROM "WorkerProcess" WHERE id = $1', [a.id])).length, 0);
        assert.equal((await t.db.raw.query(`SELECT 1 FROM "ConnectionSlot" WHERE id = 's1'`)).length, 0);
        assert.equal(await a.beat(), false);
        assert.deepEqual(lost, ['the heartbeat had gone stale']);
        assert.equal(await isAlive(t.db.raw, a.id, slow), true, 'rejoined as a fresh process');
        assert.equal(a.leaseValid(), true);
        await a.stop();
        await b.stop();
      } finally {
        await t.drop();
      }
    });

    test('unable to reach the database, a process fences itself before anyone may take its work', async () => {
      const t = await createTestDb(mode);
      const timing = { heartbeatMs: 200, deadAfterMs: 3_000 };
      const o = withOutage(t.db);
      try {
        const reg = await registerProcess(o.db, { role: 'worker', timing });
        let lostAt = 0;
        reg.onLost(() => {
          lostAt = Date.now();
        });
        const [row] = await t.db.raw.query<{ heartbeatAt: Date }>(
          'SELECT "heartbeatAt" FROM "WorkerProcess" WHERE id = $1',
          [reg.id],
        );
        await until('a heartbeat after the last check', async () => {
          const [r] = await t.db.raw.query<{ heartbeatAt: Date }>(
            'SELECT "heartbeatAt" FROM "WorkerProcess" WHERE id = $1',
            [reg.id],
          );
          return r.heartbeatAt > row.heartbeatAt ? r : undefined;
        });
        o.setDown(true);
        const [last] = await t.db.raw.query<{ heartbeatAt: Date }>(
          'SELECT "heartbeatAt" FROM "WorkerProcess" WHERE id = $1',
          [reg.id],
        );
        await until('the process fences itself', async () => lostAt || undefined);
        assert.equal(reg.leaseValid(), false);
        // Others may treat it as dead only deadAfter after its last heartbeat: the fence came first.
        assert.ok(
          lostAt < last.heartbeatAt.getTime() + timing.deadAfterMs,
          `fenced at ${lostAt}, dead from ${last.heartbeatAt.getTime() + timing.deadAfterMs}`,
        );
        o.setDown(false);
        await until('back with a valid lease', async () => reg.leaseValid() || undefined);
        assert.equal(await isAlive(t.db.raw, reg.id, timing), true);
        await reg.stop();
      } finally {
        await t.drop();
      }
    });
  });
}
