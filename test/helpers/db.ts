// Test databases: each test context gets a clean, migrated database. PGlite (in its own thread, as the app runs it): a
// migrated template is built once per migration set (kept as a dump in the temp directory, shared by the test
// processes) and loaded from it (~0.5 s). PostgreSQL: a template database per migration set, copied with
// CREATE DATABASE … TEMPLATE, dropped afterwards.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { pgliteDatabase, postgresDatabase, type Database } from '../../src/db/client.ts';
import { PGliteRemote } from '../../src/db/pglite-remote.ts';
import { PGLITE_EXTENSIONS } from '../../src/db/pglite-options.ts';
import { migrate, readMigrations } from '../../src/db/migrate.ts';

export type DbMode = 'pglite' | 'postgres';
export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** The modes to run database tests in: both by default, or the one TEST_DB names. */
export function dbModes(): DbMode[] {
  const only = process.env.TEST_DB;
  if (only === 'pglite' || only === 'postgres') return [only];
  return ['pglite', 'postgres'];
}

/** What a migrated template depends on: the migrations, and for PGlite its version (the dump's format). */
function templateKey(extra = ''): string {
  return createHash('sha256')
    .update(
      readMigrations()
        .map((m) => m.checksum)
        .join(),
    )
    .update(extra)
    .digest('hex')
    .slice(0, 12);
}

const PGLITE_VERSION = (
  JSON.parse(
    readFileSync(resolve(import.meta.dirname, '../../node_modules/@electric-sql/pglite/package.json'), 'utf8'),
  ) as {
    version: string;
  }
).version;

let pgliteDump: Promise<ArrayBuffer> | undefined;
/**
 * The migrated PGlite data directory, built once per migration set and PGlite version and kept in the temp directory,
 * so each test process loads it instead of running every migration again (written to a temporary name and renamed:
 * processes that build it at once never read half a file).
 */
async function pgliteTemplate(): Promise<ArrayBuffer> {
  return (pgliteDump ??= (async () => {
    const path = join(
      tmpdir(),
      `mailroom-pglite-tpl-${templateKey(`pglite ${PGLITE_VERSION} ${Object.keys(PGLITE_EXTENSIONS).join()}`)}.tar`,
    );
    if (existsSync(path)) {
      const b = readFileSync(path);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    }
    const db = pgliteDatabase(await PGliteRemote.create({}));
    await migrate(db);
    const dump = await db.pglite!.dumpDataDir('none');
    await db.close();
    const building = `${path}.${process.pid}.${randomBytes(3).toString('hex')}`;
    const buf = await dump.arrayBuffer();
    writeFileSync(building, Buffer.from(buf));
    renameSync(building, path);
    return buf;
  })());
}

function urlFor(dbName: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  return u.toString();
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

let pgTemplate: Promise<string> | undefined;
async function postgresTemplate(): Promise<string> {
  return (pgTemplate ??= (async () => {
    const name = `mailroom_tpl_${templateKey()}`;
    await withAdmin(async (c) => {
      await c.query('SELECT pg_advisory_lock(424242)'); // test processes run in parallel: one builds the template
      try {
        const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount) return;
        const building = `${name}_build_${randomBytes(3).toString('hex')}`;
        await c.query(`CREATE DATABASE "${building}"`);
        const db = postgresDatabase(urlFor(building), 2);
        try {
          await migrate(db);
        } finally {
          await db.close();
        }
        await c.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
      } finally {
        await c.query('SELECT pg_advisory_unlock(424242)');
      }
    });
    return name;
  })());
}

export interface TestDb {
  db: Database;
  mode: DbMode;
  url?: string;
  drop(): Promise<void>;
}

export async function createTestDb(mode: DbMode): Promise<TestDb> {
  if (mode === 'pglite') {
    const db = pgliteDatabase(await PGliteRemote.create({ loadDataDir: await pgliteTemplate() }));
    return { db, mode, drop: () => db.close() };
  }
  const template = await postgresTemplate();
  const name = `mailroom_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  const url = urlFor(name);
  const db = postgresDatabase(url, 5);
  return {
    db,
    mode,
    url,
    drop: async () => {
      await db.close();
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** An empty (unmigrated) database, for migration tests. */
export async function createEmptyDb(mode: DbMode): Promise<TestDb> {
  if (mode === 'pglite') {
    const db = pgliteDatabase(await PGliteRemote.create({}));
    return { db, mode, drop: () => db.close() };
  }
  const name = `mailroom_empty_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = urlFor(name);
  const db = postgresDatabase(url, 5);
  return {
    db,
    mode,
    url,
    drop: async () => {
      await db.close();
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
