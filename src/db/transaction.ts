// A raw SQL transaction on either engine: PGlite's own transaction (which also holds off Prisma's queries on the one
// connection) or a pooled PostgreSQL connection with BEGIN/COMMIT. For small hot statements where Prisma's
// interactive transactions (extra round trips, a 5 s default timeout) would cost more than the work.
import type { Database, RawSql } from './client.ts';

export async function transaction<T>(db: Database, fn: (tx: RawSql) => Promise<T>): Promise<T> {
  if (db.pglite) {
    return db.pglite.transaction(async (tx) =>
      fn({
        query: async (sql, params) => (await tx.query(sql, params as unknown[])).rows as never,
        exec: async (sql) => {
          await tx.exec(sql);
        },
      }),
    );
  }
  return db.withConnection(async (conn) => {
    await conn.exec('BEGIN');
    try {
      const result = await fn(conn);
      await conn.exec('COMMIT');
      return result;
    } catch (e) {
      await conn.exec('ROLLBACK').catch(() => undefined);
      throw e;
    }
  });
}
