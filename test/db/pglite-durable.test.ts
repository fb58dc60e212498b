// The embedded database on disk is durable (decision 042): a commit returns only after its WAL reached the disk through
// fsync(2). PGlite's defaults did not (-F, an Emscripten file system without fsync, fdatasync a no-op), so a power loss
// or an OS crash could lose committed data; a killed process never could, and still cannot (test/process/crash).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pgliteOptions } from '../../src/db/pglite-options.ts';
import { PGliteRemote } from '../../src/db/pglite-remote.ts';
import { dbModes } from '../helpers/db.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';

/** Records the files fsync(2) is called on in this thread while `fn` runs. */
async function fsyncedFiles(fn: () => Promise<unknown>): Promise<string[]> {
  const real = fs.fsyncSync;
  const files: string[] = [];
  fs.fsyncSync = (fd: number) => {
    files.push(readlinkSync(`/proc/self/fd/${fd}`));
    real(fd);
  };
  try {
    await fn();
  } finally {
    fs.fsyncSync = real;
  }
  return files;
}

if (dbModes().includes('pglite')) {
  describe('the embedded database on disk', () => {
    const newDir = tempDirs('mailroom-durable-');

    test('a commit fsyncs its WAL before it returns; a read-only statement syncs nothing', async () => {
      const dir = newDir();
      const pg = await PGlite.create(pgliteOptions({ dataDir: dir }));
      try {
        await pg.exec('CREATE TABLE t (id int PRIMARY KEY, v text)');
        const insert = await fsyncedFiles(() => pg.query('INSERT INTO t VALUES (1, $1)', ['x']));
        assert.ok(
          insert.some((f) => f.startsWith(join(dir, 'pg_wal') + '/')),
          `the commit's WAL segment was fsynced (fsynced: ${JSON.stringify(insert)})`,
        );
        const tx = await fsyncedFiles(() =>
          pg.transaction(async (q) => {
            await q.query('INSERT INTO t VALUES (2, $1)', ['y']);
            await q.query('UPDATE t SET v = $1 WHERE id = 1', ['z']);
          }),
        );
        assert.ok(
          tx.some((f) => f.includes('/pg_wal/')),
          'a transaction syncs its WAL at COMMIT',
        );
        const read = await fsyncedFiles(() => pg.query('SELECT * FROM t'));
        assert.deepEqual(read, [], 'reading costs no fsync');
        const settings = await pg.query<{ name: string; setting: string }>(
          `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'wal_sync_method') ORDER BY name`,
        );
        assert.deepEqual(settings.rows, [
          { name: 'fsync', setting: 'on' },
          { name: 'wal_sync_method', setting: 'fsync' },
        ]);
      } finally {
        await pg.close();
      }
    });

    test('the app opens it that way in its thread, and what was committed is there after a reopen', async () => {
      const dir = newDir();
      let pg = await PGliteRemote.create({ dataDir: dir, smallSharedBuffers: true });
      try {
        const r = await pg.query<{ fsync: string }>('SHOW fsync');
        assert.equal(r.rows[0]?.fsync, 'on');
        await pg.exec('CREATE TABLE t (id int PRIMARY KEY)');
        await pg.query('INSERT INTO t VALUES (7)');
      } finally {
        await pg.close();
      }
      pg = await PGliteRemote.create({ dataDir: dir, smallSharedBuffers: true });
      try {
        const r = await pg.query<{ id: number }>('SELECT id FROM t');
        assert.deepEqual(
          r.rows.map((x) => Number(x.id)),
          [7],
        );
      } finally {
        await pg.close();
      }
    });

    test('in memory (tests, a loaded dump) nothing changes: no disk, fsync stays off', async () => {
      const pg = await PGlite.create(pgliteOptions({}));
      try {
        const r = await pg.query<{ fsync: string }>('SHOW fsync');
        assert.equal(r.rows[0]?.fsync, 'off');
      } finally {
        await pg.close();
      }
    });
  });
}
