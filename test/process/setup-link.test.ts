// Two processes started together on a fresh PostgreSQL database: both print the same setup link, and it works (one
// link per database; a process does not replace the link another already printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ADMIN_URL, dbModes } from '../helpers/db.ts';
import { startProcess, waitForOutput, listeningUrl } from '../helpers/processes.ts';

test('two processes on a fresh database print one setup link, which opens setup', {
  skip: !dbModes().includes('postgres'),
}, async () => {
  const name = `mailroom_setup_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const env = {
    DATABASE_URL: u.toString(),
    SECRETS_KEY: randomBytes(32).toString('base64'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    PORT: '0',
    LOG_LEVEL: 'info',
    MAILROOM_ROLE: 'web',
  };
  const procs = [startProcess(env), startProcess(env)];
  try {
    const links = await Promise.all(procs.map((p) => waitForOutput(p, /\/setup\?token=([\w-]+)/).then((m) => m[1])));
    assert.equal(links[0], links[1], 'both processes print the same link');
    for (const p of procs) {
      const open = await fetch(`${await listeningUrl(p)}/setup?token=${links[0]}`, { redirect: 'manual' });
      assert.equal(open.status, 303, 'the link opens setup on either process');
      assert.equal(open.headers.get('location'), '/setup');
    }
    // A process started later, still before the first admin exists, prints the same link again.
    const later = startProcess(env);
    procs.push(later);
    assert.equal((await waitForOutput(later, /\/setup\?token=([\w-]+)/))[1], links[0]);
  } finally {
    const codes = await Promise.all(procs.map((p) => p.stop()));
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
    assert.ok(
      codes.every((c) => c === 0),
      `exit codes ${codes}`,
    );
  }
});
