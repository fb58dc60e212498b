// kill -9 while an email is being sent, after the SMTP server has the message but before it answered: the next
// process never sends it again; the email reads "Sent status unknown" (decision 020). Real processes, both engines:
// PostgreSQL (a second process takes over once the first one's heartbeat is stale) and PGlite (the restarted process
// finds the first one's Sending email at start).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, postgresDatabase, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSealer } from '../../src/security/secrets.ts';
import { createUser } from '../../src/auth/users.ts';
import { ADMIN_URL, dbModes } from '../helpers/db.ts';
import { startGmailWorld, createGmailProfile, createConnectedMailbox } from '../helpers/gmail-world.ts';
import { TestClient } from '../helpers/client.ts';
import { listeningUrl, startProcess, type Proc } from '../helpers/processes.ts';
import { decode, textOf } from '../helpers/html.ts';
import { waitFor } from '../helpers/wait.ts';

const PASSWORD = 'correct horse battery';
const w = await startGmailWorld();
after(() => w.close());

interface Setup {
  env: Record<string, string>;
  /** A database handle for checks; PGlite's is opened only while no process holds the data dir. */
  open(): Promise<Database>;
  mailboxId: string;
  drop(): Promise<void>;
}

async function seed(db: Database, key: string) {
  await migrate(db);
  const sealer = createSealer(Buffer.from(key, 'base64'));
  const user = await createUser(db.prisma, { email: 'ada@example.com', name: 'Ada', role: 'USER', password: PASSWORD });
  const profile = await createGmailProfile(db.prisma, sealer, w);
  const mb = await createConnectedMailbox(db.prisma, sealer, w, { ownerId: user.id, profileId: profile.id });
  await db.prisma.mailbox.update({
    where: { id: mb.id },
    data: { enabledForOutgoing: true, outgoingStatus: 'SUCCESS' },
  });
  return mb.id;
}

async function setUp(mode: 'pglite' | 'postgres'): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'mr-send-crash-'));
  writeFileSync(join(dir, 'ca.pem'), w.mail.ca);
  const key = randomBytes(32).toString('base64');
  const base = {
    SECRETS_KEY: key,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    PORT: '0',
    DATA_DIR: dir,
    MAIL_TLS_CA_FILE: join(dir, 'ca.pem'),
    LOG_LEVEL: 'info',
    ...w.googleEnv,
  };
  if (mode === 'pglite') {
    const db = await openDatabase({ dataDir: dir });
    const mailboxId = await seed(db, key);
    await db.close();
    return { env: base, open: () => openDatabase({ dataDir: dir }), mailboxId, drop: async () => {} };
  }
  const name = `mailroom_send_crash_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const db = postgresDatabase(u.toString(), 2);
  const mailboxId = await seed(db, key);
  return {
    env: { ...base, DATABASE_URL: u.toString() },
    open: async () => db,
    mailboxId,
    drop: async () => {
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

const kill9 = async (p: Proc) => {
  p.child.kill('SIGKILL');
  await p.exited;
};

for (const mode of dbModes()) {
  test(`[${mode}] kill -9 after the server has the message: never a second message, the email reads Sent status unknown`, async () => {
    const s = await setUp(mode);
    after(() => s.drop());
    const before = w.mail.smtp.messages.length;
    w.mail.smtp.holdData(true);
    const p = startProcess(s.env);
    let restarted: Proc | undefined;
    try {
      const client = new TestClient(await listeningUrl(p));
      await client.login('ada@example.com', PASSWORD);
      const page = await client.get(`/emails/new?mailbox=${s.mailboxId}`);
      const submissionId = decode(/name="submissionId" value="([^"]*)"/.exec(page.text)?.[1] ?? '');
      const form = {
        submissionId,
        mailboxId: s.mailboxId,
        to: 'grace@example.org',
        subject: 'Crash course',
        text: 'Sent exactly once, or not known.',
      };
      const sent = await client.post('/emails', form);
      assert.equal(sent.status, 303, sent.text.slice(0, 400));
      const id = sent.location!.split('/').pop()!;
      await waitFor('the server to have the message', () => (w.mail.smtp.messages.length > before ? true : undefined));
      await kill9(p);
      w.mail.smtp.holdData(false);

      // A new process on the same database (PostgreSQL: a second worker; PGlite: the restart).
      restarted = startProcess(s.env);
      const again = new TestClient(await listeningUrl(restarted));
      await again.login('ada@example.com', PASSWORD);
      const status = await waitFor('the email to read Sent status unknown', async () => {
        const res = await again.get(`/emails/status.json?ids=${id}`);
        const [e] = (JSON.parse(res.text) as { emails: { statusCode: string }[] }).emails;
        return e && e.statusCode !== 'SENDING' && e.statusCode !== 'PENDING_SEND' ? e : undefined;
      });
      assert.equal(status.statusCode, 'UNKNOWN');
      const record = textOf((await again.get(`/emails/${id}`)).text);
      assert.match(record, /Sent status unknown — check the Sent folder in Gmail/);
      assert.match(record, /SENT_STATUS_UNKNOWN/);
      // The same form posted again (the user retries) leads to the same email and sends nothing.
      const resubmit = await again.post('/emails', form);
      assert.equal(resubmit.location, sent.location);
      await new Promise((r) => setTimeout(r, 3000)); // a resend would have happened by now
      assert.equal(w.mail.smtp.messages.length, before + 1);
      assert.match(restarted.out(), /email send status unknown: its sender process died/);
      await restarted.stop();
      restarted = undefined;
      const db = await s.open();
      try {
        const e = await db.prisma.email.findUniqueOrThrow({ where: { id } });
        assert.equal(e.attempts, 1);
        assert.equal(e.status, 'UNKNOWN');
      } finally {
        if (mode === 'pglite') await db.close();
      }
    } finally {
      w.mail.smtp.holdData(false);
      if (p.child.exitCode === null) await kill9(p);
      await restarted?.stop();
    }
  });
}
