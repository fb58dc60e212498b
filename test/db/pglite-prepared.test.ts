// Named prepared statements in the embedded database's thread (src/db/pglite-prepared.ts, decision 039): a statement
// is parsed once per SQL text, a table changed under a cached statement does not break it, the cache stays bounded,
// and errors are PGlite's. (That values and errors equal in-process PGlite's: pglite-remote.test.ts.) PGlite only.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PGlite, messages } from '@electric-sql/pglite';
import { PGliteRemote } from '../../src/db/pglite-remote.ts';
import { PreparedStatements } from '../../src/db/pglite-prepared.ts';
import { dbModes } from '../helpers/db.ts';

const PREPARED = `SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'mailroom_%' ORDER BY name`;

if (dbModes().includes('pglite')) {
  describe('PGlite: named prepared statements', () => {
    let remote: PGliteRemote;
    before(async () => {
      remote = await PGliteRemote.create({ prepared: true });
      await remote.exec(`CREATE TABLE p (id int4 PRIMARY KEY, a text)`);
      await remote.query(`INSERT INTO p VALUES ($1, $2), ($3, $4)`, [1, 'x', 2, 'y']);
    });
    after(async () => {
      await remote?.close();
    });

    test('a statement is prepared once under a name and run again by it', async () => {
      const sql = `SELECT id, a FROM p WHERE id >= $1 ORDER BY id`;
      for (const from of [1, 2, 1]) {
        const r = await remote.query<{ id: number }>(sql, [from]);
        assert.deepEqual(
          r.rows.map((x) => x.id),
          from === 1 ? [1, 2] : [2],
        );
      }
      const named = (await remote.query<{ statement: string }>(PREPARED)).rows.filter((r) => r.statement === sql);
      assert.equal(named.length, 1);
    });

    test('every call is planned for its values: PostgreSQL does not switch a statement to a generic plan', async () => {
      const sql = `SELECT id FROM p WHERE a = $1 OR id = $2`;
      for (let k = 0; k < 8; k++) await remote.query(sql, ['x', k]);
      const [plans] = (
        await remote.query<{ g: number; c: number }>(
          `SELECT generic_plans::int AS g, custom_plans::int AS c FROM pg_prepared_statements WHERE statement = $1`,
          [sql],
        )
      ).rows;
      assert.deepEqual(plans, { g: 0, c: 8 });
    });

    test('a table changed under a prepared statement: the statement is prepared again', async () => {
      const sql = `SELECT * FROM p WHERE id = $1`;
      assert.deepEqual((await remote.query(sql, [1])).rows, [{ id: 1, a: 'x' }]);
      await remote.exec(`ALTER TABLE p ADD COLUMN b int4 DEFAULT 7`);
      assert.deepEqual((await remote.query(sql, [1])).rows, [{ id: 1, a: 'x', b: 7 }]);
    });

    test('errors are PGlite database errors, and the next statement runs', async () => {
      const sql = `INSERT INTO p (id, a) VALUES ($1, $2)`;
      await assert.rejects(remote.query(sql, [1, 'again']), (e: unknown) => {
        assert.ok(e instanceof messages.DatabaseError);
        assert.equal((e as messages.DatabaseError).code, '23505');
        return true;
      });
      await assert.rejects(remote.query(`SELECT nope FROM p`), { code: '42703' });
      await remote.query(sql, [3, 'z']);
      assert.equal((await remote.query(`SELECT count(*)::int AS n FROM p`)).rows[0]!.n, 3);
    });

    test('in a transaction: statements see its writes, and a rollback undoes them', async () => {
      await assert.rejects(
        remote.transaction(async (tx) => {
          await tx.query(`UPDATE p SET a = $1 WHERE id = $2`, ['in-tx', 1]);
          assert.equal((await tx.query(`SELECT a FROM p WHERE id = $1`, [1])).rows[0]!.a, 'in-tx');
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.equal((await remote.query(`SELECT a FROM p WHERE id = $1`, [1])).rows[0]!.a, 'x');
    });
  });

  test('the cache of prepared statements is bounded: the least recently used are closed', async () => {
    const pg = await PGlite.create();
    try {
      const prepared = new PreparedStatements(pg, 2);
      const run = (sql: string) => pg._runExclusiveQuery(() => prepared.query(sql, [], undefined, false));
      for (const n of [1, 2, 3, 4, 5]) await run(`SELECT ${n} AS n`);
      await run(`SELECT 1 AS n`); // used again after it was evicted: prepared anew
      const live = (await pg.query<{ statement: string }>(PREPARED)).rows.map((r) => r.statement);
      assert.ok(live.length <= 3, `${live.length} statements prepared: ${live.join('; ')}`);
      assert.ok(!live.includes('SELECT 2 AS n') && !live.includes('SELECT 3 AS n'), live.join('; '));
      assert.equal(prepared.size, 2);
    } finally {
      await pg.close();
    }
  });
}
