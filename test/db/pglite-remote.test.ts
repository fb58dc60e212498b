// The embedded database in its own thread (src/db/pglite-remote.ts, decision 024) against in-process PGlite: the same
// values for every column type the schema uses, database errors that still map to Prisma's codes, transactions,
// LISTEN/NOTIFY, and a crash of the thread that rejects what was pending instead of hanging. PGlite only.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite, messages } from '@electric-sql/pglite';
import { PGliteRemote, DatabaseThreadError } from '../../src/db/pglite-remote.ts';
import { PGLITE_EXTENSIONS } from '../../src/db/pglite-options.ts';
import { pgliteDatabase } from '../../src/db/client.ts';
import { transaction } from '../../src/db/transaction.ts';
import { createTestDb, dbModes, type TestDb } from '../helpers/db.ts';
import { seedFromTemplate } from '../../src/db/pglite-template.ts';

const SCHEMA = `
  CREATE TYPE mood AS ENUM ('HAPPY', 'SAD');
  CREATE TABLE t (
    id int4 PRIMARY KEY, txt text, txts text[], uid uuid, big int8, flag boolean, tz timestamptz(3), ts timestamp(3),
    doc jsonb, js json, m mood, bin bytea, num numeric, fl float8, ints int4[], tzs timestamptz[], d date,
    CONSTRAINT t_txt_key UNIQUE (txt)
  );`;
const INSERT = `INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)`;
const ROWS: unknown[][] = [
  [
    1,
    'héllo "quoted", {braces}',
    ['a', 'b,c', null, 'd"e'],
    '0b6f5f2e-1c7a-4d2b-9a51-6a0f3c1e2d4a',
    9_007_199_254_740_993n,
    true,
    new Date('2026-01-02T03:04:05.678Z'),
    new Date('2026-01-02T03:04:05.678Z'),
    { a: [1, 'x', null], n: { b: true } },
    '{"k": 1}',
    'SAD',
    Buffer.from([0, 1, 254, 255]),
    '12345678901234567890.123',
    1.5,
    [1, 2, 3],
    [new Date(0)],
    '2024-02-29',
  ],
  [2, null, [], null, 42n, false, null, null, null, null, null, new Uint8Array(), null, null, null, null, null],
];

if (dbModes().includes('pglite')) {
  describe('PGlite in its own thread', () => {
    let local: PGlite;
    let remote: PGliteRemote;
    before(async () => {
      local = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
      remote = await PGliteRemote.create({});
      for (const db of [local, remote]) {
        await db.exec(SCHEMA);
        for (const row of ROWS) await db.query(INSERT, row);
      }
    });
    after(async () => {
      await local?.close();
      await remote?.close();
    });

    test('every column type comes back as in-process PGlite returns it (objects, arrays, custom parsers)', async () => {
      const sql = 'SELECT * FROM t ORDER BY id';
      const a = await remote.query(sql);
      const b = await local.query(sql);
      assert.deepEqual(a, b);
      assert.equal(typeof (a.rows[0] as { big: unknown }).big, 'bigint');
      assert.ok((a.rows[0] as { tz: unknown }).tz instanceof Date);
      assert.ok((a.rows[0] as { bin: unknown }).bin instanceof Uint8Array);
      // The Prisma adapter's way: rows as arrays, its own parsers over PGlite's (numeric as a string here).
      const parsers = { 1700: (x: string) => `n:${x}`, 1184: (x: string) => `tz:${x}` };
      const opts = { rowMode: 'array' as const, parsers };
      assert.deepEqual(await remote.query(sql, [], opts), await local.query(sql, [], opts));
      // exec: one result per statement, as PGlite gives them.
      const script = "SELECT id, doc FROM t ORDER BY id; UPDATE t SET fl = 2 WHERE id = 2; SELECT 'x' AS y";
      const execA = await remote.exec(script);
      const execB = await local.exec(script);
      assert.deepEqual(execA, execB);
      assert.equal(execA[1]!.affectedRows, 1);
    });

    test('a database error keeps its PostgreSQL fields and class, so the Prisma adapter maps it', async () => {
      const err = await remote.query(INSERT, [3, ...ROWS[0]!.slice(1)]).catch((e: unknown) => e);
      assert.ok(err instanceof messages.DatabaseError, `not a DatabaseError: ${String(err)}`);
      const e = err as messages.DatabaseError;
      assert.equal(e.code, '23505');
      assert.equal(e.constraint, 't_txt_key');
      assert.equal(e.table, 't');
      assert.equal(e.severity, 'ERROR');
      assert.match(e.detail ?? '', /already exists/);
      assert.match(e.message, /duplicate key value violates unique constraint "t_txt_key"/);
      // A non-database error is still an Error with its message.
      await assert.rejects(remote.query('SELECT $1::int', [() => 1]), /could not be cloned/);
    });

    test('transactions commit, roll back on a throw or rollback(), and recover after a failed statement', async () => {
      await remote.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id) VALUES (10)');
      });
      await assert.rejects(
        remote.transaction(async (tx) => {
          await tx.query('INSERT INTO t (id) VALUES (11)');
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      await remote.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id) VALUES (12)');
        await tx.rollback();
        assert.equal(tx.closed, true);
        await assert.rejects(tx.query('SELECT 1'), /Transaction is closed/);
      });
      // A failing statement aborts the transaction; the throw rolls it back and the database is usable after.
      const failed = await remote
        .transaction(async (tx) => {
          await tx.query('INSERT INTO t (id) VALUES (13)');
          await tx.query('INSERT INTO t (id) VALUES (10)'); // duplicate key
        })
        .catch((e: unknown) => e);
      assert.equal((failed as messages.DatabaseError).code, '23505');
      // A statement outside waits for the open transaction, as on one connection.
      const order: string[] = [];
      const inside = remote.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id) VALUES (14)');
        await new Promise((r) => setTimeout(r, 50));
        order.push('tx done');
      });
      const outside = remote.query('SELECT count(*)::int AS n FROM t WHERE id = 14').then((r) => {
        order.push('outside');
        return r.rows[0];
      });
      await inside;
      assert.deepEqual(await outside, { n: 1 });
      assert.deepEqual(order, ['tx done', 'outside']);
      const ids = (await remote.query<{ id: number }>('SELECT id FROM t WHERE id >= 10 ORDER BY id')).rows;
      assert.deepEqual(
        ids.map((r) => r.id),
        [10, 14],
      );
    });

    test('LISTEN/NOTIFY reaches the main thread until unsubscribed', async () => {
      const got: string[] = [];
      const unlisten = await remote.listen('remote_test', (p) => got.push(p));
      await remote.query("SELECT pg_notify('remote_test', 'one')");
      await remote.transaction(async (tx) => {
        await tx.query("SELECT pg_notify('remote_test', 'two')");
      });
      for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(got, ['one', 'two']);
      await unlisten();
      await remote.query("SELECT pg_notify('remote_test', 'three')");
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got, ['one', 'two']);
    });
  });

  describe('the app database on the thread', () => {
    let t: TestDb;
    before(async () => {
      t = await createTestDb('pglite');
    });
    after(async () => {
      await t?.drop();
    });

    test('Prisma: unique violation is P2002, interactive transactions commit and roll back, raw transaction', async () => {
      const { prisma } = t.db;
      assert.ok(t.db.pglite instanceof PGliteRemote);
      const user = { email: 'a@example.com', name: 'A', passwordHash: 'x' };
      const created = await prisma.user.create({ data: user });
      assert.ok(created.createdAt instanceof Date);
      await assert.rejects(prisma.user.create({ data: user }), (e: { code?: string }) => e.code === 'P2002');
      await assert.rejects(
        prisma.$transaction(async (tx) => {
          await tx.user.create({ data: { ...user, email: 'b@example.com' } });
          throw new Error('no');
        }),
        /no/,
      );
      await prisma.$transaction(async (tx) => {
        await tx.user.create({ data: { ...user, email: 'c@example.com' } });
      });
      const emails = (await prisma.user.findMany({ orderBy: { email: 'asc' } })).map((u) => u.email);
      assert.deepEqual(emails, ['a@example.com', 'c@example.com']);
      const n = await transaction(t.db, async (tx) => {
        await tx.exec("INSERT INTO \"Setting\" (key, value) VALUES ('k', 'v')");
        return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM "Setting"'))[0]!.n;
      });
      assert.equal(n, 1);
    });
  });

  test('calls made while the thread is still opening the database run once it is open, in the order made', async () => {
    // npm start builds the Prisma client and sends the migrations check during the open (decision 041).
    const remote = PGliteRemote.start({});
    let open = false;
    void remote.waitReady.then(() => {
      open = true;
    });
    const db = pgliteDatabase(remote);
    try {
      const created = remote.exec('CREATE TABLE early (n int4 PRIMARY KEY, tags text[])');
      const inserted = remote.transaction(async (tx) => {
        await tx.query('INSERT INTO early VALUES ($1, $2)', [1, ['a', 'b']]);
        await tx.query('INSERT INTO early VALUES ($1, $2)', [2, []]);
      });
      const counted = db.raw.query<{ n: number }>('SELECT count(*)::int AS n FROM early');
      assert.equal(open, false); // all three were sent before the database was open
      await created;
      await inserted;
      assert.deepEqual(await counted, [{ n: 2 }]);
      // Array columns parse as in-process PGlite (the parsers built from the thread's ready message).
      assert.deepEqual((await remote.query('SELECT tags FROM early ORDER BY n')).rows, [
        { tags: ['a', 'b'] },
        { tags: [] },
      ]);
      assert.equal(open, true);
    } finally {
      await db.close();
    }
  });

  test('an open that fails rejects the calls made meanwhile with its reason, and the thread ends', async () => {
    const remote = PGliteRemote.start({ loadDataDir: new TextEncoder().encode('not a tar').buffer as ArrayBuffer });
    let crashed = false;
    remote.onCrash = () => {
      crashed = true;
    };
    const early = remote.query('SELECT 1');
    const ready = await remote.waitReady.then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(ready instanceof Error);
    await assert.rejects(early, (e: Error) => e.message === ready.message);
    await assert.rejects(remote.query('SELECT 1'), (e: Error) => e.message === ready.message);
    assert.equal(remote.closed, true);
    await remote.close(); // returns at once: nothing is open
    assert.equal(crashed, false); // a failed open is reported through waitReady, not as a crash
  });

  test('a few seconds after opening a database that exists, the thread runs one full collection', async () => {
    // A data directory that exists (the install-time template's copy, as a new DATA_DIR gets): no initdb, so no
    // collection right after the open (decision 037); one a few seconds later frees what the open left (PGlite's
    // 9 MB read of pglite.wasm among it), which V8 alone would keep in this quiet thread (decision 041).
    const dir = join(mkdtempSync(join(tmpdir(), 'mailroom-gc-')), 'pglite');
    assert.ok(seedFromTemplate(dir), 'the install-time template exists (npm ci made it)');
    const remote = await PGliteRemote.create({ dataDir: dir });
    try {
      let m = await remote.memoryForTest();
      for (let i = 0; i < 150 && m.collections === 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        m = await remote.memoryForTest();
      }
      assert.equal(m.collections, 1);
      assert.deepEqual((await remote.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    } finally {
      await remote.close();
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });

  test('a crash of the database thread rejects pending and later calls instead of hanging', async () => {
    const remote = await PGliteRemote.create({});
    const db = pgliteDatabase(remote);
    let crashed: Error | undefined;
    remote.onCrash = (e) => {
      crashed = e;
    };
    // A transaction held open, and a statement queued behind it in the thread: both are in flight at the crash.
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const inTx = remote.transaction(async (tx) => {
      await tx.query('SELECT 1');
      await held;
    });
    const pending = db.raw.query('SELECT 2');
    remote.crashForTest();
    await assert.rejects(
      pending,
      (e: Error) => e instanceof DatabaseThreadError && /stopped unexpectedly/.test(e.message),
    );
    release();
    await assert.rejects(inTx, DatabaseThreadError);
    await assert.rejects(db.raw.query('SELECT 1'), DatabaseThreadError);
    assert.ok(crashed instanceof DatabaseThreadError);
    assert.match(crashed.message, /crash requested by a test/);
    assert.equal(remote.closed, true);
    await db.close(); // does not hang on a dead thread
  });
}
