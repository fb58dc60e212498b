// The real process: `npm start`'s entry with its environment — bad config exits 1 naming the variable,
// a new data dir prints the setup link and answers a malformed body without a stack, a second process on the same data
// dir refuses, SIGTERM stops cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ADMIN_URL, dbModes } from '../helpers/db.ts';
import { WAIT_MS } from '../helpers/wait.ts';
import { leakIn } from '../helpers/leaks.ts';

const ROOT = resolve(import.meta.dirname, '../..');

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Proc {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
  });
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

async function waitFor(p: Proc, re: RegExp, ms = WAIT_MS): Promise<RegExpExecArray> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const m = re.exec(p.out());
    if (m) return m;
    if (p.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`did not see ${re} in:\n${p.out()}`);
}

// Below Linux's ephemeral range (32768–60999): a port up there can be taken between the pick and the server's listen by
// any outgoing connection on the machine (CI saw EADDRINUSE on 32942 while other tests ran).
const port = () => String(20000 + Math.floor(Math.random() * 12000));

test('invalid environment exits 1 and names the variable', async () => {
  for (const [env, name] of [
    [{ PORT: 'abc' }, 'PORT'],
    [{ DATABASE_URL: 'postgresql://x@127.0.0.1/y' }, 'SECRETS_KEY'],
    [{ PUBLIC_URL: 'nope' }, 'PUBLIC_URL'],
  ] as const) {
    const p = run({ DATA_DIR: mkdtempSync(join(tmpdir(), 'mr-')), ...env });
    assert.equal(await p.exited, 1);
    assert.match(p.out(), new RegExp(`mailroom: .*${name}`));
  }
});

test('embedded: a new data dir serves the setup page; a second process refuses; SIGTERM stops cleanly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mr-'));
  const PORT = port();
  const a = run({ DATA_DIR: dir, PORT });
  try {
    const [, url] = await waitFor(a, /(http:\/\/localhost:\d+\/setup\?token=[\w-]+)/);
    assert.match(a.out(), /SECRETS_KEY was not set: generated/);
    const setup = await fetch(url.replace('localhost', '127.0.0.1'), { redirect: 'manual' });
    assert.equal(setup.status, 303);
    assert.equal((await fetch(`http://127.0.0.1:${PORT}/healthz`)).status, 200);
    // No NODE_ENV, as with `npm start`: a malformed body gets the error page, without a stack or a file path.
    const bad = await fetch(`http://127.0.0.1:${PORT}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/html' },
      body: '{"a":',
    });
    assert.equal(bad.status, 400);
    const body = await bad.text();
    assert.equal(leakIn(body), undefined, body);
    const b = run({ DATA_DIR: dir, PORT: port() });
    assert.equal(await b.exited, 1);
    assert.match(b.out(), /Another Mailroom process \(pid \d+\) is using the data directory/);
  } finally {
    a.child.kill('SIGTERM');
  }
  assert.equal(await a.exited, 0);
  assert.ok(!existsSync(join(dir, 'mailroom.lock')));
});

if (dbModes().includes('postgres')) {
  test('DATABASE_URL: the same schema on PostgreSQL, migrations applied at start', async () => {
    const name = `mailroom_proc_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const u = new URL(ADMIN_URL);
    u.pathname = `/${name}`;
    const PORT = port();
    const p = run({
      DATABASE_URL: u.toString(),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      SESSION_SECRET: randomBytes(32).toString('hex'),
      PORT,
      DATA_DIR: '/nonexistent-on-purpose',
    });
    try {
      await waitFor(p, /setup\?token=/);
      assert.equal((await fetch(`http://127.0.0.1:${PORT}/healthz`)).status, 200);
      assert.doesNotMatch(p.out(), /generated/);
    } finally {
      p.child.kill('SIGTERM');
      const code = await p.exited;
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
      assert.equal(code, 0, p.out());
    }
  });
}
