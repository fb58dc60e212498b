// The embedded database's maintenance (src/db/pglite-vacuum.ts, decision 043): PGlite has no autovacuum, so the app
// vacuums a table past autovacuum's thresholds, leaves small ones alone, still finds a table written before a
// restart (PGlite loses its counters), stops cleanly, and starts nothing on PostgreSQL.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { PGliteRemote } from '../../src/db/pglite-remote.ts';
import { pgliteDatabase, type Database } from '../../src/db/client.ts';
import { maintenanceFor, startMaintenance, type TableStats } from '../../src/db/pglite-vacuum.ts';
import { createTestDb, dbModes } from '../helpers/db.ts';

function capture() {
  const lines: { msg: string; table?: string; level: number }[] = [];
  let onLine: (l: { msg: string }) => void = () => undefined;
  const logger = pino(
    { level: 'debug' },
    {
      write: (s: string) => {
        const l = JSON.parse(s);
        lines.push(l);
        onLine(l);
      },
    },
  );
  return { logger, lines, on: (fn: typeof onLine) => (onLine = fn) };
}

const counts = async (db: Database, table: string) =>
  (
    await db.raw.query<{ vacuums: string; dead: string }>(
      `SELECT vacuum_count::text AS vacuums, n_dead_tup::text AS dead FROM pg_stat_user_tables WHERE relname = $1`,
      [table],
    )
  )[0]!;

const fill = (table: string, rows: number) =>
  `CREATE TABLE ${table} (id serial PRIMARY KEY, v text);
   INSERT INTO ${table} (v) SELECT 'row ' || g FROM generate_series(1, ${rows}) g;`;

describe('the thresholds', () => {
  const t: TableStats = {
    target: 'public.t',
    reltuples: 10_000,
    deadTuples: 0,
    insertsSinceVacuum: 0,
    modsSinceAnalyze: 0,
    vacuumCount: 1,
    pages: 100,
    allVisiblePages: 100,
  };
  test('autovacuum defaults: dead 50 + 20 %, inserts 1000 + 20 %, analyze 50 + 10 %', () => {
    assert.equal(maintenanceFor(t), undefined);
    assert.equal(maintenanceFor({ ...t, deadTuples: 2050 }), undefined);
    assert.equal(maintenanceFor({ ...t, deadTuples: 2051 }), 'vacuum');
    assert.equal(maintenanceFor({ ...t, insertsSinceVacuum: 3001 }), 'vacuum');
    assert.equal(maintenanceFor({ ...t, modsSinceAnalyze: 1050 }), undefined);
    assert.equal(maintenanceFor({ ...t, modsSinceAnalyze: 1051 }), 'analyze');
    assert.equal(maintenanceFor({ ...t, reltuples: -1, deadTuples: 51 }), 'vacuum');
  });
  test('until vacuumed once since the start: a table whose pages are mostly not all-visible', () => {
    assert.equal(maintenanceFor({ ...t, vacuumCount: 0, allVisiblePages: 0 }), 'vacuum');
    assert.equal(maintenanceFor({ ...t, vacuumCount: 0, allVisiblePages: 80 }), undefined);
    assert.equal(maintenanceFor({ ...t, vacuumCount: 1, allVisiblePages: 0 }), undefined);
    assert.equal(maintenanceFor({ ...t, vacuumCount: 0, pages: 15, allVisiblePages: 0 }), undefined);
  });
});

if (dbModes().includes('pglite')) {
  describe('PGlite: maintenance', () => {
    test('a pass vacuums the tables past the thresholds, leaves a small one alone, and not again', async () => {
      const db = pgliteDatabase(await PGliteRemote.create({}));
      const { logger, lines } = capture();
      const loop = startMaintenance(db, logger, 3_600_000, 3_600_000)!;
      try {
        await db.raw.exec(`${fill('big', 5000)} DELETE FROM big WHERE id % 2 = 0;`);
        await db.raw.exec(`${fill('small', 20)} DELETE FROM small WHERE id % 2 = 0;`);
        const pass = await loop.runNow();
        assert.deepEqual(pass, { vacuumed: ['public.big'], analyzed: [], failed: [] });
        assert.deepEqual(await counts(db, 'big'), { vacuums: '1', dead: '0' });
        assert.deepEqual(await counts(db, 'small'), { vacuums: '0', dead: '10' });
        assert.ok(lines.some((l) => l.msg === 'embedded database: table vacuumed' && l.table === 'public.big'));
        assert.deepEqual(await loop.runNow(), { vacuumed: [], analyzed: [], failed: [] });
      } finally {
        await loop.stop();
        await db.close();
      }
    });

    test('after a restart (PGlite keeps no counters across one), a table written before it is vacuumed', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mailroom-vacuum-'));
      try {
        let db = pgliteDatabase(await PGliteRemote.create({ dataDir: dir }));
        await db.raw.exec(fill('big', 20_000));
        await db.close();
        db = pgliteDatabase(await PGliteRemote.create({ dataDir: dir }));
        const loop = startMaintenance(db, capture().logger, 3_600_000, 3_600_000)!;
        try {
          assert.deepEqual(await counts(db, 'big'), { vacuums: '0', dead: '0' });
          assert.deepEqual((await loop.runNow())?.vacuumed, ['public.big']);
          assert.deepEqual((await loop.runNow())?.vacuumed, []);
        } finally {
          await loop.stop();
          await db.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('stopping during a pass: the running VACUUM ends, no other starts, the database closes cleanly', async () => {
      const db = pgliteDatabase(await PGliteRemote.create({}));
      const { logger, lines, on } = capture();
      const loop = startMaintenance(db, logger, 3_600_000, 3_600_000)!;
      await db.raw.exec(`${fill('a', 5000)} ${fill('b', 5000)} DELETE FROM a; DELETE FROM b;`);
      let closed: Promise<void> | undefined;
      // The shutdown as runtime.ts does it, right after the first table's VACUUM.
      on((l) => {
        if (l.msg === 'embedded database: table vacuumed') closed ??= loop.stop().then(() => db.close());
      });
      const pass = await loop.runNow();
      await closed;
      assert.deepEqual(pass, { vacuumed: ['public.a'], analyzed: [], failed: [] });
      assert.equal(db.pglite!.closed, true);
      assert.deepEqual(
        lines.filter((l) => l.level >= 50),
        [],
      );
      assert.equal(await loop.runNow(), undefined); // stopped: no pass runs again
    });

    test('a table that fails is logged, and the pass goes on with the next', async () => {
      const db = pgliteDatabase(await PGliteRemote.create({}));
      const { logger, lines, on } = capture();
      const loop = startMaintenance(db, logger, 3_600_000, 3_600_000)!;
      try {
        await db.raw.exec(
          `${fill('a', 5000)} ${fill('b', 5000)} ${fill('c', 5000)} DELETE FROM a; DELETE FROM b; DELETE FROM c;`,
        );
        // b goes between the pass's read of the counters and its VACUUM (sent before the pass's next statement).
        let dropped: Promise<void> | undefined;
        on((l) => {
          if (l.msg === 'embedded database: table vacuumed') dropped ??= db.raw.exec('DROP TABLE b');
        });
        const pass = await loop.runNow();
        await dropped;
        assert.deepEqual(pass, { vacuumed: ['public.a', 'public.c'], analyzed: [], failed: ['public.b'] });
        const errors = lines.filter((l) => l.level >= 50);
        assert.equal(errors.length, 1);
        assert.equal(errors[0]!.msg, 'embedded database: vacuum failed');
        assert.equal(errors[0]!.table, 'public.b');
        assert.deepEqual(await loop.runNow(), { vacuumed: [], analyzed: [], failed: [] }); // the loop carries on
      } finally {
        await loop.stop();
        await db.close();
      }
    });

    test('a pass started during a transaction runs its VACUUM after it (VACUUM cannot run inside one)', async () => {
      const db = pgliteDatabase(await PGliteRemote.create({}));
      const { logger, lines } = capture();
      const loop = startMaintenance(db, logger, 3_600_000, 3_600_000)!;
      try {
        await db.raw.exec(`${fill('big', 5000)} DELETE FROM big;`);
        let running: Promise<unknown> | undefined;
        await db.pglite!.transaction(async (tx) => {
          running = loop.runNow();
          await tx.query('INSERT INTO big (v) VALUES ($1)', ['in the transaction']);
        });
        assert.deepEqual(await running, { vacuumed: ['public.big'], analyzed: [], failed: [] });
        assert.deepEqual(
          lines.filter((l) => l.level >= 50),
          [],
        );
      } finally {
        await loop.stop();
        await db.close();
      }
    });
  });
}

describe('no maintenance loop', () => {
  test('PGLITE_VACUUM_SECONDS=0', async () => {
    const db = pgliteDatabase(await PGliteRemote.create({}));
    try {
      assert.equal(startMaintenance(db, capture().logger, 0), undefined);
    } finally {
      await db.close();
    }
  });
  if (dbModes().includes('postgres'))
    test('PostgreSQL: its autovacuum does it', async () => {
      const t = await createTestDb('postgres');
      try {
        assert.equal(startMaintenance(t.db, capture().logger, 60_000), undefined);
      } finally {
        await t.drop();
      }
    });
});
