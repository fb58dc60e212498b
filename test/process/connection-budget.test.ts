// Connection budgets hold across processes (issue 14 item 9, decision 022): two real Mailroom processes on one
// PostgreSQL run Test & Enable for many mailboxes, and the mail servers themselves count the connections open at once:
// never more than the profile's Maximum Concurrent Connections, and never more mailbox tests than CHECK_CONCURRENCY.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresDatabase, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSealer } from '../../src/security/secrets.ts';
import { createUser } from '../../src/auth/users.ts';
import { ADMIN_URL, dbModes } from '../helpers/db.ts';
import { startGmailWorld, createGmailProfile, createConnectedMailbox } from '../helpers/gmail-world.ts';
import { startImapServer, type FakeImapServer } from '../fakes/mail/imap-server.ts';
import { bearerVerifierFrom } from '../fakes/mail/world.ts';
import { TestClient } from '../helpers/client.ts';
import { listeningUrl, startProcess, type Proc } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

const PASSWORD = 'correct horse battery';
const CHECK_CONCURRENCY = 3;

/** Queues Test & Enable for `ids` through one process's page, as an admin would. */
async function requestAll(p: Proc, ids: string[]): Promise<void> {
  const client = new TestClient(await listeningUrl(p));
  await client.login('admin@example.com', PASSWORD);
  const queued = await client.post('/mailboxes/test', { ids });
  assert.equal(queued.status, 303, queued.text.slice(0, 300));
}

/** Waits until every mailbox finished, then: how many distinct processes ran them. */
async function finishedBy(db: Database, ids: string[]): Promise<number> {
  const rows = await waitFor(
    'every mailbox to finish',
    async () => {
      const done = await db.prisma.mailbox.findMany({
        where: { id: { in: ids }, incomingStatus: { not: 'PENDING' } },
      });
      return done.length === ids.length ? done : undefined;
    },
    { timeoutMs: 240_000 },
  );
  for (const m of rows) assert.equal(m.incomingStatus, 'SUCCESS');
  const runners = await db.prisma.testRun.findMany({
    where: { mailboxId: { in: ids } },
    select: { runnerProcessId: true },
    distinct: ['runnerProcessId'],
  });
  return runners.length;
}

if (dbModes().includes('postgres')) {
  test('two processes: at most the profile’s 2 connections, and CHECK_CONCURRENCY tests, open at once at the servers', async () => {
    const w = await startGmailWorld();
    const name = `mailroom_budget_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const u = new URL(ADMIN_URL);
    u.pathname = `/${name}`;
    const key = randomBytes(32).toString('base64');
    const db = postgresDatabase(u.toString(), 3);
    const servers: FakeImapServer[] = [];
    const procs: Proc[] = [];
    after(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await Promise.all(servers.map((s) => s.close()));
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
      await w.close();
    });
    await migrate(db);
    const sealer = createSealer(Buffer.from(key, 'base64'));
    const owner = await createUser(db.prisma, {
      email: 'admin@example.com',
      name: 'Admin',
      role: 'ADMIN',
      password: PASSWORD,
    });
    // IMAP servers of their own, every answer a little slow: their high-water marks count only this test's connections.
    for (let i = 0; i < 2; i++)
      servers.push(
        await startImapServer({
          verifyBearer: bearerVerifierFrom((t) => w.google.verifyAccessToken(t)),
          accounts: w.mail.accounts,
          delayMs: 100,
        }),
      );
    const [capped, wide] = servers;
    const mailboxes = async (maxConcurrentConnections: number, port: number, n: number) => {
      const profile = await createGmailProfile(db.prisma, sealer, w, { maxConcurrentConnections });
      await db.prisma.emailServerProfile.update({ where: { id: profile.id }, data: { incomingPort: port } });
      const ids: string[] = [];
      for (let i = 0; i < n; i++)
        ids.push(
          (
            await createConnectedMailbox(db.prisma, sealer, w, {
              ownerId: owner.id,
              profileId: profile.id,
              outgoing: false,
            })
          ).id,
        );
      return ids;
    };
    const cappedIds = await mailboxes(2, capped.port, 16);
    const wideIds = await mailboxes(100, wide.port, 16);

    const dir = mkdtempSync(join(tmpdir(), 'mr-budget-'));
    writeFileSync(join(dir, 'ca.pem'), w.mail.ca);
    const env = {
      DATABASE_URL: u.toString(),
      SECRETS_KEY: key,
      SESSION_SECRET: randomBytes(32).toString('hex'),
      PORT: '0',
      DATA_DIR: dir,
      MAIL_TLS_CA_FILE: join(dir, 'ca.pem'),
      CHECK_CONCURRENCY: String(CHECK_CONCURRENCY),
      LOG_LEVEL: 'info',
      // Test & Enable's own budget is counted here: mailboxes it enables would otherwise start IDLE sessions on the
      // same servers (sync and tests sharing one budget is test/process/sync-cluster.test.ts's).
      SYNC: 'off',
      ...w.googleEnv,
    };
    procs.push(startProcess(env), startProcess(env));
    await Promise.all(procs.map((p) => listeningUrl(p)));

    // A profile with Maximum Concurrent Connections 2: per process, two processes would open up to 4.
    let started = Date.now();
    await requestAll(procs[0], cappedIds);
    assert.equal(await finishedBy(db, cappedIds), 2, 'both processes ran some of the tests');
    const cappedSeconds = (Date.now() - started) / 1000;
    assert.equal(capped.stats().connections, cappedIds.length, 'one IMAP connection per mailbox test');
    assert.ok(capped.stats().maxConcurrent <= 2, `peak ${capped.stats().maxConcurrent} connections (limit 2)`);
    assert.equal(capped.stats().maxConcurrent, 2, 'the budget is used, not serialised');

    // A wide profile: CHECK_CONCURRENCY (3) mailbox tests at once across both processes, not 3 per process.
    started = Date.now();
    await requestAll(procs[1], wideIds);
    assert.equal(await finishedBy(db, wideIds), 2, 'both processes ran some of the tests');
    const wideSeconds = (Date.now() - started) / 1000;
    assert.ok(
      wide.stats().maxConcurrent <= CHECK_CONCURRENCY,
      `peak ${wide.stats().maxConcurrent} tests at once (CHECK_CONCURRENCY ${CHECK_CONCURRENCY})`,
    );
    console.log(
      `# two processes on PostgreSQL: profile limit 2 → peak ${capped.stats().maxConcurrent} IMAP connections ` +
        `(16 tests in ${cappedSeconds.toFixed(1)} s); CHECK_CONCURRENCY ${CHECK_CONCURRENCY} → peak ` +
        `${wide.stats().maxConcurrent} (16 tests in ${wideSeconds.toFixed(1)} s)`,
    );
  });
}
