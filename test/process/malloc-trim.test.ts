// The server that `npm start` runs gives malloc's free memory back to the OS a few seconds after it is ready
// (decision 046): the install built native/malloc-trim.c, and the started process loads it and calls malloc_trim.
// Memory figures are the bench's (bench/start.ts); this checks that the trim runs, not what it frees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MALLOC_TRIM_ADDON, mallocTrim } from '../../src/malloc-trim.ts';
import { ROOT } from '../../src/paths.ts';
import { waitFor } from '../helpers/wait.ts';

const hasCompiler = spawnSync(process.env.CC || 'cc', ['--version']).status === 0;

test('the install builds the malloc_trim addon where there is a C compiler, and it loads', {
  skip: !hasCompiler,
}, () => {
  assert.ok(existsSync(MALLOC_TRIM_ADDON), `${MALLOC_TRIM_ADDON} missing: run \`npm install\` (postinstall builds it)`);
  const trim = mallocTrim();
  assert.ok(trim, 'the addon loads');
  assert.equal(typeof trim(), 'boolean');
});

test('npm start trims malloc once it is ready, and stops cleanly', { skip: !hasCompiler }, async () => {
  let out = '';
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'debug',
      SYNC: 'off',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'mr-trim-')),
    },
  });
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  let trimmed: { released: unknown; ms: unknown } | undefined;
  try {
    trimmed = await waitFor('the first trim', () => {
      const line = out.split('\n').find((l) => l.includes('"msg":"malloc trimmed"'));
      return line ? (JSON.parse(line) as { released: unknown; ms: unknown }) : undefined;
    });
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
  }
  assert.equal(await closed, 0, out);
  assert.equal(typeof trimmed.released, 'boolean');
  assert.equal(typeof trimmed.ms, 'number');
  assert.doesNotMatch(out, /"level":50/, out);
});
