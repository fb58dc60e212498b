// Opens the database: embedded PGlite under DATA_DIR, or PostgreSQL when DATABASE_URL is set.
// Both give a Prisma client plus a raw SQL handle (migrations, pg-boss, health checks).
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import type { PGliteRemote, PGliteLike } from './pglite-remote.ts';
import { Gate } from './gate.ts';
import { openPglite } from './pglite-open.ts';

export type DbKind = 'pglite' | 'postgres';

export interface RawSql {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a multi-statement script; rejects when any statement fails. */
  exec(sql: string): Promise<void>;
}

export interface Database {
  kind: DbKind;
  prisma: PrismaClient;
  raw: RawSql;
  /**
   * Liveness writes (the cluster heartbeat) on a connection of their own, so a pool busy with synchronization never
   * delays them past the lease (seen in the sync bench: 200 mailboxes at once starved the heartbeat and the process
   * gave up its leases). PGlite has one connection: the same as raw.
   */
  control: RawSql;
  /** Runs fn with one connection held for its whole duration (advisory locks are per connection). */
  withConnection<T>(fn: (conn: RawSql) => Promise<T>): Promise<T>;
  /**
   * Runs a bulk write (a synchronization batch's transaction) with fewer of them at once than the pool has
   * connections: the rest stay free for heartbeats, ownership renewals, jobs and pages (decision 025).
   */
  bulk<T>(fn: () => Promise<T>): Promise<T>;
  /** The embedded database: in its own thread (PGliteRemote) in the app and the tests. */
  pglite?: PGliteLike;
  databaseUrl?: string;
  close(): Promise<void>;
}

/**
 * Prisma's interactive transactions default to a 2 s wait for a connection and a 5 s limit. On a busy machine (or a
 * pool busy with a 1,000-mailbox Test & Enable request) both were exceeded and a user's click answered 500 ("Unable
 * to start a transaction in the given time", seen in the bench at load 20–37). The limits stay as a guard against a
 * stuck transaction, at values no healthy request reaches.
 */
export const TRANSACTION_OPTIONS = { maxWait: 30_000, timeout: 60_000 } as const;

/** Default connections per process on PostgreSQL (DATABASE_POOL_SIZE). */
export const DEFAULT_POOL_SIZE = 10;
/** Bulk writes at once for a pool of this size: half of it, so as many connections stay free for everything else. */
export const bulkSlots = (poolSize: number): number => Math.max(1, Math.floor(poolSize / 2));

export function pgliteDatabase(pglite: PGliteLike): Database {
  const raw: RawSql = {
    query: async (sql, params) => (await pglite.query(sql, params as unknown[])).rows as never,
    exec: async (sql) => {
      await pglite.exec(sql);
    },
  };
  const prisma = new PrismaClient({
    adapter: new PrismaPGlite(pglite as unknown as PGlite),
    transactionOptions: TRANSACTION_OPTIONS,
  });
  return {
    kind: 'pglite',
    prisma,
    raw,
    control: raw,
    pglite,
    withConnection: (fn) => fn(raw),
    bulk: (fn) => fn(), // one connection, serialized by PGlite itself
    close: async () => {
      await prisma.$disconnect();
      if (!pglite.closed) await pglite.close();
    },
  };
}

export function postgresDatabase(databaseUrl: string, poolSize = DEFAULT_POOL_SIZE): Database {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  const gate = new Gate(bulkSlots(poolSize));
  pool.on('error', () => {
    /* a broken idle client is dropped by the pool; queries report their own errors */
  });
  const wrap = (c: pg.Pool | pg.PoolClient): RawSql => ({
    query: async (sql, params) => (await c.query(sql, params as unknown[])).rows,
    exec: async (sql) => {
      await c.query(sql);
    },
  });
  // Connects on first use (worker roles' heartbeat); one connection, never shared with the pool's queries.
  // Used every heartbeat (5 s), so it stays open under the pool's 10 s idle timeout; it still lets a process exit.
  const controlPool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  controlPool.on('error', () => {
    /* as above */
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool), transactionOptions: TRANSACTION_OPTIONS });
  return {
    kind: 'postgres',
    prisma,
    raw: wrap(pool),
    control: wrap(controlPool),
    databaseUrl,
    bulk: (fn) => gate.run(fn),
    withConnection: async (fn) => {
      const client = await pool.connect();
      try {
        return await fn(wrap(client));
      } finally {
        client.release();
      }
    },
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
      await controlPool.end();
    },
  };
}

/**
 * PostgreSQL, or the embedded database. `pglite` is one already opening (startOpening in main.ts): the Prisma client
 * is built while the thread opens the database, and this resolves once it is open (decision 041).
 */
export async function openDatabase(
  opts: {
    databaseUrl?: string;
    dataDir: string;
    databasePoolSize?: number;
  },
  pglite?: PGliteRemote,
): Promise<Database> {
  if (opts.databaseUrl) return postgresDatabase(opts.databaseUrl, opts.databasePoolSize);
  if (!pglite) return pgliteDatabase(await openPglite(opts.dataDir));
  const db = pgliteDatabase(pglite);
  // Prisma loads its query compiler (WASM) on $connect, or else on the first query, right after the server listens;
  // the adapter sends no statement for it, so it is done while the thread opens the database.
  await Promise.all([pglite.waitReady, db.prisma.$connect()]);
  return db;
}
