// `npm start` on the embedded database vacuums it (decision 043): a table written before the start (PGlite keeps no
// counters across a restart) is vacuumed by the server's first pass, and the server still stops cleanly. PGlite only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGliteRemote } from '../../src/db/pglite-remote.ts';
import { dbModes } from '../helpers/db.ts';
import { startProcess, waitForOutput } from '../helpers/processes.ts';

if (dbModes().includes('pglite'))
  test('the server vacuums a table past the thresholds, then stops cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mr-vacuum-'));
    try {
      const before = await PGliteRemote.create({ dataDir: join(dataDir, 'pglite') });
      await before.exec(`CREATE TABLE big (id serial PRIMARY KEY, v text);
        INSERT INTO big (v) SELECT 'row ' || g FROM generate_series(1, 20000) g;`);
      await before.close();
      const p = startProcess({ PORT: '0', LOG_LEVEL: 'info', DATA_DIR: dataDir, PGLITE_VACUUM_SECONDS: '60' });
      try {
        await waitForOutput(p, /"table":"public\.big","ms":\d+,"msg":"embedded database: table vacuumed"/);
      } finally {
        assert.equal(await p.stop(), 0, p.out());
      }
      assert.match(p.out(), /"msg":"stopped"/);
      assert.doesNotMatch(p.out(), /"level":50/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
