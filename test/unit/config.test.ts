// Config parsing: defaults, named errors for bad variables, generated keys in embedded mode only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');
const tmp = () => mkdtempSync(join(tmpdir(), 'mailroom-cfg-'));

test('embedded mode generates missing keys into DATA_DIR with mode 0600, once', () => {
  const dir = tmp();
  const c = loadConfig({ DATA_DIR: dir });
  assert.deepEqual(c.generatedKeys, ['SECRETS_KEY', 'SESSION_SECRET']);
  const file = join(dir, 'keys.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const again = loadConfig({ DATA_DIR: dir });
  assert.deepEqual(again.generatedKeys, []);
  assert.ok(again.secretsKeys.current.equals(c.secretsKeys.current));
  assert.ok(readFileSync(file, 'utf8').includes('secretsKey'));
});

test('defaults: port 3000, PUBLIC_URL from port, Google endpoints are Google', () => {
  const c = loadConfig({ DATA_DIR: tmp() });
  assert.equal(c.port, 3000);
  assert.equal(c.publicUrl, 'http://localhost:3000');
  assert.equal(c.google.tokenUrl, 'https://oauth2.googleapis.com/token');
  assert.equal(c.google.authorizationUrl, 'https://accounts.google.com/o/oauth2/v2/auth');
});

test('with DATABASE_URL the keys must be given, and the error names the variable', () => {
  assert.throws(() => loadConfig({ DATABASE_URL: 'postgresql://x@127.0.0.1/db', DATA_DIR: tmp() }), /SECRETS_KEY/);
  assert.throws(
    () => loadConfig({ DATABASE_URL: 'postgresql://x@127.0.0.1/db', SECRETS_KEY: KEY, DATA_DIR: tmp() }),
    /SESSION_SECRET/,
  );
  const c = loadConfig({
    DATABASE_URL: 'postgresql://x@127.0.0.1/db',
    SECRETS_KEY: KEY,
    SESSION_SECRET: 'x'.repeat(40),
  });
  assert.equal(c.databaseUrl, 'postgresql://x@127.0.0.1/db');
});

test('malformed variables are named', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ PUBLIC_URL: 'not a url' }, /PUBLIC_URL/],
    [{ DATABASE_URL: 'mysql://x/y' }, /DATABASE_URL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ SECRETS_KEY: 'short' }, /SECRETS_KEY/],
    [{ SESSION_SECRET: 'short' }, /SESSION_SECRET/],
    [{ GOOGLE_TOKEN_URL: 'ftp://x' }, /GOOGLE_TOKEN_URL/],
    [{ SECRETS_KEY_FILE: '/nonexistent/key' }, /SECRETS_KEY_FILE/],
  ];
  for (const [env, re] of cases)
    assert.throws(
      () => loadConfig({ DATA_DIR: tmp(), ...env }),
      (e: Error) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(env),
    );
});

test('PUBLIC_URL loses its trailing slash; hex and base64 keys both work', () => {
  const c = loadConfig({
    DATA_DIR: tmp(),
    PUBLIC_URL: 'https://crm.example.com/',
    SECRETS_KEY: 'ab'.repeat(32),
    SESSION_SECRET: 'y'.repeat(32),
  });
  assert.equal(c.publicUrl, 'https://crm.example.com');
  assert.equal(c.secretsKeys.current.length, 32);
});

test('MAILROOM_ROLE: all by default; web and worker only with DATABASE_URL; anything else is named', () => {
  assert.equal(loadConfig({ DATA_DIR: tmp() }).role, 'all');
  const pgEnv = { DATABASE_URL: 'postgresql://x@127.0.0.1/db', SECRETS_KEY: KEY, SESSION_SECRET: 'x'.repeat(40) };
  for (const role of ['all', 'web', 'worker'] as const)
    assert.equal(loadConfig({ ...pgEnv, MAILROOM_ROLE: role }).role, role);
  for (const role of ['web', 'worker']) {
    assert.throws(
      () => loadConfig({ DATA_DIR: tmp(), MAILROOM_ROLE: role }),
      (e: Error) => e instanceof ConfigError && /MAILROOM_ROLE: \w+ needs DATABASE_URL/.test(e.message),
    );
  }
  assert.throws(
    () => loadConfig({ ...pgEnv, MAILROOM_ROLE: 'both' }),
    (e: Error) => e instanceof ConfigError && /MAILROOM_ROLE: must be one of all, web, worker/.test(e.message),
  );
});

test('TRUST_PROXY: loopback by default; false, hop counts, addresses, ranges and names; true and garbage are named', () => {
  const pgEnv = { DATABASE_URL: 'postgresql://x@127.0.0.1/db', SECRETS_KEY: KEY, SESSION_SECRET: 'x'.repeat(40) };
  assert.deepEqual(loadConfig(pgEnv).trustProxy, ['loopback']);
  const ok: [string, false | number | string[]][] = [
    ['false', false],
    ['0', false],
    ['1', 1],
    ['2', 2],
    ['10.0.0.5', ['10.0.0.5']],
    ['10.0.0.0/8, fd00::/8,loopback', ['10.0.0.0/8', 'fd00::/8', 'loopback']],
    ['uniquelocal', ['uniquelocal']],
  ];
  for (const [value, want] of ok)
    assert.deepEqual(loadConfig({ ...pgEnv, TRUST_PROXY: value }).trustProxy, want, value);
  for (const value of ['true', 'yes', '10.0.0.0/33', '10.0.0', 'loopback,,nope', 'fd00::/129'])
    assert.throws(
      () => loadConfig({ ...pgEnv, TRUST_PROXY: value }),
      (e: Error) => e instanceof ConfigError && /TRUST_PROXY/.test(e.message),
      value,
    );
});

test('SESSION_MAX_HOURS: 12 by default, whole hours from 1', () => {
  assert.equal(loadConfig({ DATA_DIR: tmp() }).sessionMaxHours, 12);
  assert.equal(loadConfig({ DATA_DIR: tmp(), SESSION_MAX_HOURS: '24' }).sessionMaxHours, 24);
  for (const value of ['0', '1.5', 'forever'])
    assert.throws(() => loadConfig({ DATA_DIR: tmp(), SESSION_MAX_HOURS: value }), /SESSION_MAX_HOURS/, value);
});

test('SYNC: on by default, off on request, anything else named', () => {
  assert.equal(loadConfig({ DATA_DIR: tmp() }).syncEnabled, true);
  assert.equal(loadConfig({ DATA_DIR: tmp(), SYNC: 'off' }).syncEnabled, false);
  assert.throws(() => loadConfig({ DATA_DIR: tmp(), SYNC: 'maybe' }), /SYNC/);
});

test('DATABASE_POOL_SIZE: 20 by default, a number of connections of at least 2', () => {
  const pgEnv = { DATABASE_URL: 'postgresql://x@127.0.0.1/db', SECRETS_KEY: KEY, SESSION_SECRET: 'x'.repeat(40) };
  assert.equal(loadConfig(pgEnv).databasePoolSize, 20);
  assert.equal(loadConfig({ ...pgEnv, DATABASE_POOL_SIZE: '25' }).databasePoolSize, 25);
  for (const bad of ['1', 'many', '2.5'])
    assert.throws(
      () => loadConfig({ ...pgEnv, DATABASE_POOL_SIZE: bad }),
      (e: Error) => e instanceof ConfigError && /DATABASE_POOL_SIZE/.test(e.message),
      bad,
    );
});

test('PGLITE_VACUUM_SECONDS: a minute by default, 0 turns the loop off, anything else is named', () => {
  assert.equal(loadConfig({ DATA_DIR: tmp() }).pgliteVacuumMs, 60_000);
  assert.equal(loadConfig({ DATA_DIR: tmp(), PGLITE_VACUUM_SECONDS: '0' }).pgliteVacuumMs, 0);
  assert.equal(loadConfig({ DATA_DIR: tmp(), PGLITE_VACUUM_SECONDS: '300' }).pgliteVacuumMs, 300_000);
  for (const value of ['-1', '1.5', 'often'])
    assert.throws(() => loadConfig({ DATA_DIR: tmp(), PGLITE_VACUUM_SECONDS: value }), /PGLITE_VACUUM_SECONDS/, value);
});
