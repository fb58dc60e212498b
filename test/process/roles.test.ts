// MAILROOM_ROLE as separate processes: on one fresh PostgreSQL database a web process (pages, queues jobs) and a
// worker process (runs jobs, serves only /healthz) carry Test & Enable end to end; web and worker refuse the
// embedded database, and `npm run worker`'s entry is a worker.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSealer } from '../../src/security/secrets.ts';
import { createUser } from '../../src/auth/users.ts';
import { ADMIN_URL, dbModes } from '../helpers/db.ts';
import { startGmailWorld, createGmailProfile, createConnectedMailbox } from '../helpers/gmail-world.ts';
import { TestClient } from '../helpers/client.ts';
import { listeningUrl, startProcess, until, waitForOutput } from '../helpers/processes.ts';

const PASSWORD = 'correct horse battery';

test('web or worker on the embedded database refuses to start and says why', async () => {
  for (const [env, entry] of [
    [{ MAILROOM_ROLE: 'web' }, 'src/server.ts'],
    [{ MAILROOM_ROLE: 'worker' }, 'src/server.ts'],
    [{}, 'src/worker.ts'],
  ] as const) {
    const p = startProcess({ DATA_DIR: mkdtempSync(join(tmpdir(), 'mr-role-')), PORT: '0', ...env }, entry);
    assert.equal(await p.exited, 1, p.out());
    assert.match(
      p.out(),
      /mailroom: Invalid environment variable MAILROOM_ROLE: (web|worker) needs DATABASE_URL \(PostgreSQL\)/,
    );
  }
  const bad = startProcess({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'mr-role-')),
    PORT: '0',
    MAILROOM_ROLE: 'everything',
  });
  assert.equal(await bad.exited, 1);
  assert.match(bad.out(), /mailroom: Invalid environment variable MAILROOM_ROLE: must be one of all, web, worker/);
});

if (dbModes().includes('postgres')) {
  test('MAILROOM_ROLE=web and MAILROOM_ROLE=worker on one PostgreSQL: Test & Enable requested on the web, run by the worker', async () => {
    const w = await startGmailWorld();
    after(() => w.close());
    const name = `mailroom_roles_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const u = new URL(ADMIN_URL);
    u.pathname = `/${name}`;
    const databaseUrl = u.toString();
    const key = randomBytes(32).toString('base64');

    // The data, written before either process starts (the processes apply the same migrations and find them done).
    const db = postgresDatabase(databaseUrl, 2);
    await migrate(db);
    const sealer = createSealer(Buffer.from(key, 'base64'));
    const owner = await createUser(db.prisma, {
      email: 'admin@example.com',
      name: 'Admin',
      role: 'ADMIN',
      password: PASSWORD,
    });
    const profile = await createGmailProfile(db.prisma, sealer, w);
    const mb = await createConnectedMailbox(db.prisma, sealer, w, {
      ownerId: owner.id,
      profileId: profile.id,
      expired: true,
    });
    await db.close();

    const dir = mkdtempSync(join(tmpdir(), 'mr-roles-'));
    writeFileSync(join(dir, 'ca.pem'), w.mail.ca);
    const env = {
      DATABASE_URL: databaseUrl,
      SECRETS_KEY: key,
      SESSION_SECRET: randomBytes(32).toString('hex'),
      PORT: '0',
      DATA_DIR: dir,
      MAIL_TLS_CA_FILE: join(dir, 'ca.pem'),
      LOG_LEVEL: 'info',
      ...w.googleEnv,
    };
    const web = startProcess({ ...env, MAILROOM_ROLE: 'web' });
    let worker: ReturnType<typeof startProcess> | undefined;
    try {
      await waitForOutput(web, /Mailroom is ready at \S+ \(role: web, serves the pages, queues the jobs; PostgreSQL\)/);
      const client = new TestClient(await listeningUrl(web));
      await client.login('admin@example.com', PASSWORD);
      await client.get(`/mailboxes/${mb.id}`);
      const queued = await client.post(`/mailboxes/${mb.id}/test`);
      assert.equal(queued.status, 303, queued.text.slice(0, 300));
      const status = async () =>
        (
          JSON.parse((await client.get(`/mailboxes/status.json?ids=${mb.id}`)).text) as {
            mailboxes: { pending: boolean; incomingStatus: string; outgoingStatus: string; enabled: string }[];
          }
        ).mailboxes[0];
      assert.equal((await status()).pending, true, 'queued by the web process');

      const imapBefore = w.mail.imap.stats().connections;
      worker = startProcess({ ...env, MAILROOM_ROLE: 'worker' });
      const [, health] = await waitForOutput(
        worker,
        /Mailroom is ready at \S+ \(role: worker, runs the jobs; PostgreSQL; health check (http:\/\/localhost:\d+\/healthz)\)/,
      );
      const workerUrl = health.replace('localhost', '127.0.0.1');
      assert.equal((await fetch(workerUrl)).status, 200);
      assert.equal((await fetch(workerUrl.replace('/healthz', '/login'))).status, 404, 'a worker serves only /healthz');

      const done = await until('the worker to finish the test', async () => {
        const s = await status();
        return s.pending ? undefined : s;
      });
      assert.equal(done.incomingStatus, 'Success', worker.out());
      assert.equal(done.outgoingStatus, 'Success');
      assert.equal(done.enabled, 'Incoming and Outgoing');
      assert.ok(w.mail.imap.stats().connections > imapBefore, 'the worker signed in to IMAP');
      const page = await client.get(`/mailboxes/${mb.id}`);
      assert.match(page.text, /Open INBOX/);
      // The worker ran the job (refreshing the expired token on the way); the web process only queued it.
      assert.match(worker.out(), new RegExp(`"mailboxId":"${mb.id}"[^\\n]*"msg":"mailbox test finished"`));
      assert.match(worker.out(), /Gmail access token refreshed/);
      assert.doesNotMatch(web.out(), /mailbox test finished|access token refreshed/);
    } finally {
      const codes = await Promise.all([web.stop(), worker?.stop()]);
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
      assert.deepEqual(codes, [0, worker ? 0 : undefined], `${web.out()}\n${worker?.out() ?? ''}`);
    }
  });
}
