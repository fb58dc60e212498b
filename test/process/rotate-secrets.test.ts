// `npm run secrets:rotate` as an operator runs it, on both engines: with the new SECRETS_KEY and the old one in
// SECRETS_OLD_KEYS it re-seals everything and says so; afterwards Mailroom starts with the new key alone and every
// stored secret opens with it. On PostgreSQL it runs while the app runs; on the embedded database it refuses to run
// beside the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { ADMIN_URL, dbModes } from '../helpers/db.ts';
import { startProcess, listeningUrl } from '../helpers/processes.ts';
import { openAll, seedSecrets } from '../helpers/sealed-fixtures.ts';
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSealer } from '../../src/security/secrets.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function rotate(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    let out = '';
    const child = spawn('npm', ['run', '--silent', 'secrets:rotate'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    });
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => done({ code, out }));
  });
}

const b64 = (k: Buffer) => k.toString('base64');

test('embedded: rotate with the server stopped, then start with the new key alone', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mr-rotate-'));
  const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
  const session = randomBytes(32).toString('hex');
  let db = await openDatabase({ dataDir });
  await migrate(db);
  await seedSecrets(db, createSealer(oldKey));
  const before = await openAll(db, createSealer(oldKey));
  await db.close();

  const keys = { DATA_DIR: dataDir, SECRETS_KEY: b64(newKey), SESSION_SECRET: session, PORT: '0' };
  const server = startProcess({ ...keys, SECRETS_OLD_KEYS: b64(oldKey) });
  await listeningUrl(server);
  const refused = await rotate({ ...keys, SECRETS_OLD_KEYS: b64(oldKey) });
  assert.equal(refused.code, 1);
  assert.match(refused.out, /Another Mailroom process .* Stop the server, then run npm run secrets:rotate again/);
  assert.equal(await server.stop(), 0);

  const run = await rotate({ ...keys, SECRETS_OLD_KEYS: b64(oldKey) });
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, new RegExp(`Done: ${before.size} re-sealed`));
  assert.match(run.out, /GmailGrant\.refreshToken: 11 re-sealed/);

  const restarted = startProcess(keys); // SECRETS_OLD_KEYS gone
  await listeningUrl(restarted);
  assert.equal(await restarted.stop(), 0);
  db = await openDatabase({ dataDir });
  try {
    const after = await openAll(db, createSealer(newKey)); // throws if any value still needs the old key
    assert.equal(after.size, before.size);
    for (const [k, v] of after) assert.equal(v.plain, before.get(k)?.plain, k);
  } finally {
    await db.close();
  }
});

test('PostgreSQL: rotate while the app runs; every value opens with the new key alone', {
  skip: !dbModes().includes('postgres'),
}, async () => {
  const name = `mailroom_rotate_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
  const db = await openDatabase({ databaseUrl: u.toString(), dataDir: '/nonexistent' });
  try {
    await migrate(db);
    await seedSecrets(db, createSealer(oldKey));
    const before = await openAll(db, createSealer(oldKey));
    const env = {
      DATABASE_URL: u.toString(),
      SECRETS_KEY: b64(newKey),
      SECRETS_OLD_KEYS: b64(oldKey),
      SESSION_SECRET: randomBytes(32).toString('hex'),
      PORT: '0',
    };
    const app = startProcess(env);
    try {
      await listeningUrl(app);
      const run = await rotate(env);
      assert.equal(run.code, 0, run.out);
      assert.match(run.out, new RegExp(`Done: ${before.size} re-sealed`));
    } finally {
      assert.equal(await app.stop(), 0);
    }
    const after = await openAll(db, createSealer(newKey));
    assert.equal(after.size, before.size);
    for (const [k, v] of after) assert.equal(v.plain, before.get(k)!.plain);
    const again = await rotate({ ...env, SECRETS_OLD_KEYS: '' });
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /Done: 0 re-sealed/);
  } finally {
    await db.close();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
});
