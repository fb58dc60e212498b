// The embedded database on disk keeps its files' sizes (decision 045): PostgreSQL's lseek(SEEK_END) — a relation's
// length, asked for every table and index a statement plans or scans — is answered without an fstat(2) each time, and
// the sizes follow the files as PostgreSQL grows, truncates and replaces them.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pgliteOptions } from '../../src/db/pglite-options.ts';
import { dbModes } from '../helpers/db.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';

/** How many fstat(2) calls this thread makes while `fn` runs. */
async function fstats(fn: () => Promise<unknown>): Promise<number> {
  const real = fs.fstatSync;
  let n = 0;
  fs.fstatSync = ((...args: Parameters<typeof fs.fstatSync>) => {
    n++;
    return real(...args);
  }) as typeof fs.fstatSync;
  try {
    await fn();
  } finally {
    fs.fstatSync = real;
  }
  return n;
}

/** The relation's length as PostgreSQL's storage layer sees it (ANALYZE sets relpages from it), and on disk (stat). */
async function lengths(pg: PGlite, table: string) {
  await pg.exec(`ANALYZE ${table}`);
  const r = await pg.query<{ seen: number; disk: number }>(
    `SELECT relpages AS seen, (pg_relation_size(oid) / current_setting('block_size')::int)::int AS disk
     FROM pg_class WHERE relname = $1`,
    [table],
  );
  return r.rows[0]!;
}

if (dbModes().includes('pglite')) {
  describe('the embedded database keeps its files sizes', () => {
    const newDir = tempDirs('mailroom-sizes-');

    test('planning and scanning a table again asks the disk for no file size', async () => {
      const pg = await PGlite.create(pgliteOptions({ dataDir: newDir() }));
      try {
        await pg.exec(`CREATE TABLE t (id int PRIMARY KEY, v text);
          CREATE INDEX t_v ON t (v); CREATE INDEX t_v_id ON t (v, id);
          INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 2000) g;`);
        const query = () => pg.query('SELECT count(*) FROM t WHERE id > $1 AND v <> $2', [10, 'x']);
        await query();
        // Every table and index the planner looks at is an lseek(SEEK_END); NODEFS answered each with an fstat.
        assert.equal(await fstats(query), 0);
        assert.equal(await fstats(() => pg.query('SELECT v FROM t ORDER BY v LIMIT 5')), 0);
      } finally {
        await pg.close();
      }
    });

    test('sizes follow the files: grown by inserts, cut by VACUUM, replaced by TRUNCATE, and after a reopen', async () => {
      const dir = newDir();
      let pg = await PGlite.create(pgliteOptions({ dataDir: dir }));
      try {
        await pg.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`);
        const small = await lengths(pg, 't');
        await pg.exec(`INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g`);
        const grown = await lengths(pg, 't');
        assert.ok(grown.seen > small.seen + 100, `grew: ${JSON.stringify([small, grown])}`);
        assert.equal(grown.seen, grown.disk);
        // VACUUM truncates the empty pages at the end of the file (ftruncate).
        await pg.exec('DELETE FROM t WHERE id > 5000');
        await pg.exec('VACUUM t');
        const cut = await lengths(pg, 't');
        assert.ok(cut.seen < grown.seen / 2, `cut: ${JSON.stringify([grown, cut])}`);
        assert.equal(cut.seen, cut.disk);
        // Grown again from the truncated length: rows land in new pages, none is lost.
        await pg.exec(`INSERT INTO t SELECT g, repeat('y', 200) FROM generate_series(20001, 30000) g`);
        const again = await lengths(pg, 't');
        assert.equal(again.seen, again.disk);
        assert.equal((await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]!.n, 15000);
        await pg.exec(`TRUNCATE t; INSERT INTO t VALUES (1, 'a')`);
        const replaced = await lengths(pg, 't');
        assert.equal(replaced.seen, replaced.disk);
        assert.equal(replaced.seen, 1);
      } finally {
        await pg.close();
      }
      pg = await PGlite.create(pgliteOptions({ dataDir: dir }));
      try {
        await pg.exec(`INSERT INTO t SELECT g, repeat('z', 200) FROM generate_series(2, 3000) g`);
        const reopened = await lengths(pg, 't');
        assert.equal(reopened.seen, reopened.disk);
        const r = await pg.query<{ n: number; z: number }>(
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE v LIKE 'z%')::int AS z FROM t`,
        );
        assert.deepEqual(r.rows[0], { n: 3000, z: 2999 });
        const check = await pg.query<{ ok: boolean }>(
          `SELECT count(*) = 3000 AS ok FROM t WHERE id BETWEEN 1 AND 3000`,
        );
        assert.equal(check.rows[0]!.ok, true);
      } finally {
        await pg.close();
      }
    });
  });
}
