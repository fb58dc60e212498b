// Test databases: each test context gets a clean, migrated database. PGlite (in its own thread, as the app runs it):
// a migrated template is built once per process and loaded from its dump (~0.5 s). PostgreSQL: a template database per migration set,
// copied with CREATE DATABASE … TEMPLATE, dropped afterwards.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { pgliteDatabase, postgresDatabase, type Database } from '../../src/db/client.ts';
import { PGliteRemote } from '../../src/db/pglite-remote.ts';
import { migrate, readMigrations } from '../../src/db/migrate.ts';

export type DbMode = 'pglite' | 'postgres';
export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** The modes to run database tests in: both by default, or the one TEST_DB names. */
export function dbModes(): DbMode[] {
  const only = process.env.TEST_DB;
  if (only === 'pglite' || only === 'postgres') return [only];
  return ['pglite', 'postgres'];
}

let pgliteDump: Promise<ArrayBuffer> | undefined;
async function pgliteTemplate(): Promise<ArrayBuffer> {
  return (pgliteDump ??= (async () => {
    const db = pgliteDatabase(await PGliteRemote.create({}));
    await migrate(db);
    const dump = await db.pglite!.dumpDataDir('none');
    await db.close();
    return dump.arrayBuffer();
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
    const sum = createHash('sha256')
      .update(
        readMigrations()
          .map((m) => m.checksum)
          .join(),
      )
      .digest('hex')
      .slice(0, 12);
    const name = `mailroom_tpl_${sum}`;
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
