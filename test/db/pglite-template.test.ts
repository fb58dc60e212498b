// A new embedded data directory starts from the template made at install (src/db/pglite-template.ts, decision 029):
// a copy of one initdb, opened, migrated and used like any data directory; a directory that already holds something,
// or a missing template, leaves PGlite to run initdb itself. PGlite only.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPgliteTemplate, seedFromTemplate } from '../../src/db/pglite-template.ts';
import { PGliteRemote } from '../../src/db/pglite-remote.ts';
import { openDatabase, pgliteDatabase } from '../../src/db/client.ts';
import { migrate, readMigrations } from '../../src/db/migrate.ts';
import { dbModes } from '../helpers/db.ts';

const systemId = async (dataDir: string): Promise<string> => {
  const p = await PGliteRemote.create({ dataDir });
  try {
    const r = await p.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()');
    return r.rows[0].id;
  } finally {
    await p.close();
  }
};

describe('embedded data directory from the install-time template', { skip: !dbModes().includes('pglite') }, () => {
  let root: string;
  let template: string;
  let templateId: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'mr-pglite-tpl-'));
    template = join(root, 'template', '0.0.0');
    assert.equal(await buildPgliteTemplate(template), true);
    assert.equal(await buildPgliteTemplate(template), false, 'made once');
    assert.deepEqual(
      readdirSync(join(root, 'template')).filter((n) => n.includes('building')),
      [],
      'no temporary directory left behind',
    );
    templateId = await systemId(template);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a new directory is a copy of the template (no initdb), opens, migrates and keeps its data', async () => {
    const dir = join(root, 'new', 'pglite');
    assert.equal(seedFromTemplate(dir, template), true);
    assert.equal(await systemId(dir), templateId, 'the same cluster as the template: copied, not initialized again');
    const db = pgliteDatabase(await PGliteRemote.create({ dataDir: dir }));
    try {
      assert.deepEqual(
        await migrate(db),
        readMigrations().map((m) => m.name),
      );
      assert.equal(await db.prisma.user.count(), 0);
      await db.raw.exec('CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
    } finally {
      await db.close();
    }
    const again = pgliteDatabase(await PGliteRemote.create({ dataDir: dir }));
    try {
      assert.deepEqual(await again.raw.query('SELECT v FROM kept'), [{ v: 42 }]);
    } finally {
      await again.close();
    }
    assert.deepEqual(
      readdirSync(join(root, 'new')).filter((n) => n !== 'pglite'),
      [],
      'no temporary copy left behind',
    );
  });

  test('an existing or non-empty directory is never overwritten; an empty one is seeded', () => {
    const full = join(root, 'full');
    mkdirSync(full, { recursive: true });
    writeFileSync(join(full, 'something'), 'x');
    assert.equal(seedFromTemplate(full, template), false);
    assert.deepEqual(readdirSync(full), ['something']);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    assert.equal(seedFromTemplate(empty, template), true);
    assert.ok(existsSync(join(empty, 'PG_VERSION')));
    assert.equal(seedFromTemplate(empty, template), false, 'a cluster is there now');
  });

  test('without a template for this PGlite version the first start runs initdb itself', async () => {
    const dir = join(root, 'no-template', 'pglite');
    assert.equal(seedFromTemplate(dir, join(root, 'template', 'missing')), false);
    assert.equal(existsSync(dir), false);
    // openDatabase seeds from the installed template when there is one; either way the directory opens.
    const db = await openDatabase({ dataDir: join(root, 'no-template') });
    try {
      assert.deepEqual(await db.raw.query('SELECT 1 AS one'), [{ one: 1 }]);
    } finally {
      await db.close();
    }
    assert.notEqual(await systemId(dir), templateId, 'initialized on its own');
  });
});
