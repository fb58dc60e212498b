// Applies prisma/migrations/*/migration.sql at start-up, recorded in Prisma's own _prisma_migrations
// table with Prisma's sha256 checksum, under an advisory lock so several instances may start at once.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Database, RawSql } from './client.ts';
import { ROOT } from '../paths.ts';

export const MIGRATIONS_DIR = resolve(ROOT, 'prisma/migrations');
const LOCK_KEY = 72707369; // arbitrary, constant: "mailroom migrations"

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export class MigrationError extends Error {}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

async function applyAll(conn: RawSql, migrations: Migration[]): Promise<string[]> {
  await conn.exec(CREATE_TABLE);
  const rows = await conn.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
    'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
  );
  const done = new Map(rows.map((r) => [r.migration_name, r]));
  const applied: string[] = [];
  for (const m of migrations) {
    const prior = done.get(m.name);
    if (prior?.finished_at) {
      if (prior.checksum !== m.checksum)
        throw new MigrationError(
          `Migration ${m.name} was changed after it was applied (checksum differs). Restore the file or add a new migration.`,
        );
      continue;
    }
    if (prior)
      throw new MigrationError(
        `Migration ${m.name} failed earlier and is marked unfinished in _prisma_migrations. Fix the database, then mark it rolled back.`,
      );
    // The whole migration and its record commit together: a failure leaves no half-applied state behind.
    try {
      await conn.exec(`BEGIN;\n${m.sql}\n;`);
      await conn.query(
        'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 1)',
        [randomUUID(), m.checksum, m.name],
      );
      await conn.exec('COMMIT');
    } catch (e) {
      await conn.exec('ROLLBACK').catch(() => undefined);
      throw new MigrationError(`Migration ${m.name} failed: ${(e as Error).message}`);
    }
    applied.push(m.name);
  }
  return applied;
}

/** Applies pending migrations; returns the names applied. Throws MigrationError and applies nothing further on failure. */
export async function migrate(db: Database, migrations = readMigrations()): Promise<string[]> {
  return db.withConnection(async (conn) => {
    await conn.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      return await applyAll(conn, migrations);
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    }
  });
}
