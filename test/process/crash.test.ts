// kill -9 in the middle of Test & Enable, start again: every mailbox still ends with a final status.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSealer } from '../../src/security/secrets.ts';
import { createUser } from '../../src/auth/users.ts';
import { startGmailWorld, createGmailProfile, createConnectedMailbox } from '../helpers/gmail-world.ts';
import { TestClient } from '../helpers/client.ts';
import { waitFor as until } from '../helpers/wait.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const w = await startGmailWorld();
after(() => w.close());

function start(env: Record<string, string>): { child: ChildProcess; out: () => string } {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
  });
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  return { child, out: () => out };
}

test('kill -9 mid-run, restart: no mailbox stays Pending', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mr-crash-'));
  const key = randomBytes(32).toString('base64');
  const sealer = createSealer(Buffer.from(key, 'base64'));
  const db = await openDatabase({ dataDir: dir });
  await migrate(db);
  const admin = await createUser(db.prisma, {
    email: 'admin@example.com',
    name: 'Admin',
    role: 'ADMIN',
    password: 'correct horse battery',
  });
  const profile = await createGmailProfile(db.prisma, sealer, w);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++)
    ids.push(
      (await createConnectedMailbox(db.prisma, sealer, w, { ownerId: admin.id, profileId: profile.id, expired: true }))
        .id,
    );
  await db.close();
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, w.mail.ca);
  // Below Linux's ephemeral range (32768–60999), which outgoing connections draw from.
  const PORT = String(21000 + Math.floor(Math.random() * 11000));
  const env = {
    DATA_DIR: dir,
    PORT,
    SECRETS_KEY: key,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    MAIL_TLS_CA_FILE: caFile,
    ...w.googleEnv,
  };
  const base = `http://127.0.0.1:${PORT}`;

  w.mail.imap.setDelay(1500); // each IMAP answer takes 1.5 s: the tests are mid-run when the process dies
  let p = start(env);
  const client = new TestClient(base);
  await until('server', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined));
  await client.login('admin@example.com', 'correct horse battery');
  const queued = await client.post('/mailboxes/test', { ids });
  assert.equal(queued.status, 303);
  await until('IMAP logins in flight', async () => (w.mail.imap.stats().connections >= 2 ? true : undefined));
  p.child.kill('SIGKILL');
  await new Promise((r) => p.child.once('exit', r));

  w.mail.imap.setDelay(0);
  p = start(env);
  try {
    const statuses = await until('final statuses', async () => {
      const res = await client.get(`/mailboxes/status.json?ids=${ids.join(',')}`);
      if (res.status !== 200) return undefined;
      const { mailboxes } = JSON.parse(res.text) as {
        mailboxes: { id: string; pending: boolean; incomingStatus: string; outgoingStatus: string }[];
      };
      return mailboxes.length === ids.length && mailboxes.every((m) => !m.pending) ? mailboxes : undefined;
    });
    assert.match(p.out(), /mailbox tests interrupted by a crash will run again/);
    for (const m of statuses) {
      assert.equal(m.incomingStatus, 'Success', p.out());
      assert.equal(m.outgoingStatus, 'Success');
    }
  } finally {
    p.child.kill('SIGTERM');
    await new Promise((r) => p.child.once('exit', r));
  }
});
