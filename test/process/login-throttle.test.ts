// Sign-in throttling with three real processes on one PostgreSQL database and the default limits (10 failures per
// account, 50 per IP, in 15 minutes): the limits hold across the processes, even for attempts sent all at once, and
// across a restart; the owner still gets in from an address with no failures; every 429 is audited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ADMIN_URL, dbModes } from '../helpers/db.ts';
import { startProcess, listeningUrl, type Proc } from '../helpers/processes.ts';
import { TestClient } from '../helpers/client.ts';
import { postgresDatabase } from '../../src/db/client.ts';
import { createUser } from '../../src/auth/users.ts';

const WRONG = 'not the password';
const PASSWORD = 'correct horse battery';

async function attempt(c: TestClient, email: string, password: string): Promise<number> {
  await c.get('/login');
  return (await c.post('/login', { email, password })).status;
}

test('three processes: 10 failures per account and 50 per IP in all, held across a restart', {
  skip: !dbModes().includes('postgres'),
}, async () => {
  const name = `mailroom_throttle_${randomBytes(4).toString('hex')}`;
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
  const procs: Proc[] = [];
  const db = postgresDatabase(u.toString(), 2);
  try {
    for (let i = 0; i < 3; i++) procs.push(startProcess(env));
    const urls = await Promise.all(procs.map(listeningUrl));
    const owner = await createUser(db.prisma, {
      email: 'owner@example.com',
      name: 'Owner',
      role: 'ADMIN',
      password: PASSWORD,
    });
    // Clients behind the loopback proxy Mailroom trusts by default; one per process, round robin.
    const clients = (ip: string) => urls.map((url) => new TestClient(url, { 'x-forwarded-for': ip }));
    let refusals = 0;

    // One account, one address, every process in turn: the 11th attempt is the first refused.
    const guesser = clients('10.7.0.1');
    const account: number[] = [];
    for (let i = 0; i < 12; i++) account.push(await attempt(guesser[i % 3], owner.email, WRONG));
    assert.deepEqual(account, [...Array(10).fill(401), 429, 429]);
    refusals += 2;
    assert.equal(await attempt(clients('10.7.9.9')[1], owner.email, PASSWORD), 303, 'the owner, from a clean address');

    // One address, many accounts, every process in turn: 50 failures, then 429.
    const sprayer = clients('10.7.1.1');
    const spray: number[] = [];
    for (let i = 0; i < 52; i++) spray.push(await attempt(sprayer[i % 3], `nobody${i}@example.com`, WRONG));
    assert.deepEqual(spray, [...Array(50).fill(401), 429, 429]);
    refusals += 2;

    // 24 attempts at once on a fresh account from one address, 8 per process: no more than 10 are let through.
    const burst = Array.from({ length: 24 }, (_, i) => clients('10.7.2.1')[i % 3]);
    const burstClients = burst.map((c) => new TestClient(c.base, c.defaultHeaders));
    await Promise.all(burstClients.map((c) => c.get('/login')));
    const answers = await Promise.all(
      burstClients.map((c) => c.post('/login', { email: 'burst@example.com', password: WRONG }).then((r) => r.status)),
    );
    const passed = answers.filter((s) => s === 401).length;
    assert.ok(passed <= 10, `${passed} of 24 simultaneous attempts were checked`);
    assert.equal(passed + answers.filter((s) => s === 429).length, 24);
    refusals += 24 - passed;

    const denied = await db.prisma.auditEvent.count({ where: { action: 'auth.login', result: 'DENIED' } });
    assert.equal(denied, refusals, 'every 429 audited');
    const logged = procs.map((p) => p.out().match(/sign-in refused: too many failed attempts/g)?.length ?? 0);
    assert.equal(
      logged.reduce((a, b) => a + b, 0),
      refusals,
      'every 429 logged',
    );

    // Restart every process: the counts are still there.
    assert.deepEqual(await Promise.all(procs.splice(0).map((p) => p.stop())), [0, 0, 0]);
    procs.push(startProcess(env));
    const again = new TestClient(await listeningUrl(procs[0]), { 'x-forwarded-for': '10.7.0.1' });
    assert.equal(await attempt(again, owner.email, PASSWORD), 429, 'the guesser address is still refused');
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await db.close();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
});
