// Opens the database: embedded PGlite under DATA_DIR, or PostgreSQL when DATABASE_URL is set.
// Both give a Prisma client plus a raw SQL handle (migrations, pg-boss, health checks).
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import { Gate } from './gate.ts';

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
  pglite?: PGlite;
  databaseUrl?: string;
  close(): Promise<void>;
}

/** Default connections per process on PostgreSQL (DATABASE_POOL_SIZE). */
export const DEFAULT_POOL_SIZE = 10;
/** Bulk writes at once for a pool of this size: half of it, so as many connections stay free for everything else. */
export const bulkSlots = (poolSize: number): number => Math.max(1, Math.floor(poolSize / 2));

export function pgliteDatabase(pglite: PGlite): Database {
  const raw: RawSql = {
    query: async (sql, params) => (await pglite.query(sql, params as unknown[])).rows as never,
    exec: async (sql) => {
      await pglite.exec(sql);
    },
  };
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
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
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
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
 * PostgreSQL's default shared_buffers (128MB) is all touched at start-up inside PGlite's WASM memory and stays
 * resident (~125 MB of idle RSS); the embedded database is small and the OS caches its files (bench/README.md).
 */
const PGLITE_SHARED_BUFFERS = '16MB';

/** Extensions the migrations create (pg_trgm: substring search in the Emails list); PGlite must load them itself. */
export const PGLITE_EXTENSIONS = { pg_trgm };

export async function openDatabase(opts: {
  databaseUrl?: string;
  dataDir: string;
  databasePoolSize?: number;
}): Promise<Database> {
  if (opts.databaseUrl) return postgresDatabase(opts.databaseUrl, opts.databasePoolSize);
  const pglite = await PGlite.create({
    dataDir: join(opts.dataDir, 'pglite'),
    extensions: PGLITE_EXTENSIONS,
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  });
  return pgliteDatabase(pglite);
}
