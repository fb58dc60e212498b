// Start-up migrations on both engines: applied once, recorded like Prisma does, failures stop and roll back,
// and several instances migrating at once apply each migration exactly once.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { migrate, readMigrations, MigrationError } from '../../src/db/migrate.ts';
import { postgresDatabase } from '../../src/db/client.ts';
import { createEmptyDb, dbModes } from '../helpers/db.ts';

for (const mode of dbModes()) {
  describe(`migrations [${mode}]`, () => {
    test('applies every migration once and records Prisma-compatible checksums', async () => {
      const t = await createEmptyDb(mode);
      try {
        const all = readMigrations();
        assert.ok(all.length >= 1);
        assert.deepEqual(
          await migrate(t.db),
          all.map((m) => m.name),
        );
        assert.deepEqual(await migrate(t.db), []);
        const rows = await t.db.raw.query<{ migration_name: string; checksum: string; finished_at: Date }>(
          'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name',
        );
        assert.equal(rows.length, all.length);
        for (const [i, r] of rows.entries()) {
          assert.equal(r.checksum, createHash('sha256').update(all[i].sql).digest('hex'));
          assert.ok(r.finished_at);
        }
        assert.equal(await t.db.prisma.user.count(), 0);
      } finally {
        await t.drop();
      }
    });

    test('a failing migration stops with its error and leaves nothing half-applied', async () => {
      const t = await createEmptyDb(mode);
      try {
        const good = readMigrations();
        const bad = {
          name: '99999999999999_broken',
          sql: 'CREATE TABLE "Half" (id int);\nSELECT no_such_function();',
          checksum: 'x'.repeat(64),
        };
        await assert.rejects(
          migrate(t.db, [...good, bad]),
          (e: Error) =>
            e instanceof MigrationError && /99999999999999_broken failed: .*no_such_function/.test(e.message),
        );
        const half = await t.db.raw.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'Half'`);
        assert.equal(half.length, 0);
        const recorded = await t.db.raw.query<{ migration_name: string }>(
          'SELECT migration_name FROM "_prisma_migrations"',
        );
        assert.deepEqual(
          recorded.map((r) => r.migration_name).sort(),
          good.map((m) => m.name),
        );
      } finally {
        await t.drop();
      }
    });

    test('a migration edited after it was applied is refused', async () => {
      const t = await createEmptyDb(mode);
      try {
        const all = readMigrations();
        await migrate(t.db, all);
        const edited = all.map((m, i) => (i === 0 ? { ...m, checksum: 'f'.repeat(64) } : m));
        await assert.rejects(migrate(t.db, edited), /was changed after it was applied/);
      } finally {
        await t.drop();
      }
    });
  });
}

if (dbModes().includes('postgres')) {
  test('several instances starting at once apply each migration exactly once [postgres]', async () => {
    const t = await createEmptyDb('postgres');
    const others = Array.from({ length: 4 }, () => postgresDatabase(t.url!, 2));
    try {
      const results = await Promise.all([t.db, ...others].map((db) => migrate(db)));
      const appliedCount = results.reduce((n, r) => n + r.length, 0);
      assert.equal(appliedCount, readMigrations().length);
      const rows = await t.db.raw.query('SELECT migration_name FROM "_prisma_migrations"');
      assert.equal(rows.length, readMigrations().length);
    } finally {
      await Promise.all(others.map((d) => d.close()));
      await t.drop();
    }
  });
}
