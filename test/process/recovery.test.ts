// Crash recovery of Test & Enable on PostgreSQL with real processes: kill -9 one of three mid-run and the other two
// finish its mailboxes within 30 s, without touching their own runs; kill all three, start one, and it resumes every
// orphaned run at start-up (decision 015).
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
import {
  startGmailWorld,
  createGmailProfile,
  createConnectedMailbox,
  type GmailWorld,
} from '../helpers/gmail-world.ts';
import { TestClient } from '../helpers/client.ts';
import { listeningUrl, startProcess, type Proc } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait.ts';

const PASSWORD = 'correct horse battery';
const MAILBOXES = 30;

interface World {
  w: GmailWorld;
  db: Database;
  env: Record<string, string>;
  ids: string[];
  drop(): Promise<void>;
}

/** A fresh PostgreSQL database with an admin and MAILBOXES connected mailboxes, and the env its processes share. */
async function setUp(): Promise<World> {
  const w = await startGmailWorld();
  const name = `mailroom_recovery_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const key = randomBytes(32).toString('base64');
  const db = postgresDatabase(u.toString(), 3);
  await migrate(db);
  const sealer = createSealer(Buffer.from(key, 'base64'));
  const owner = await createUser(db.prisma, {
    email: 'admin@example.com',
    name: 'Admin',
    role: 'ADMIN',
    password: PASSWORD,
  });
  const profile = await createGmailProfile(db.prisma, sealer, w);
  const ids: string[] = [];
  for (let i = 0; i < MAILBOXES; i++)
    ids.push((await createConnectedMailbox(db.prisma, sealer, w, { ownerId: owner.id, profileId: profile.id })).id);
  const dir = mkdtempSync(join(tmpdir(), 'mr-recovery-'));
  writeFileSync(join(dir, 'ca.pem'), w.mail.ca);
  const env = {
    DATABASE_URL: u.toString(),
    SECRETS_KEY: key,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    PORT: '0',
    DATA_DIR: dir,
    MAIL_TLS_CA_FILE: join(dir, 'ca.pem'),
    LOG_LEVEL: 'info',
    ...w.googleEnv,
  };
  return {
    w,
    db,
    env,
    ids,
    drop: async () => {
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
      await w.close();
    },
  };
}

async function requestAll(p: Proc, ids: string[]): Promise<void> {
  const client = new TestClient(await listeningUrl(p));
  await client.login('admin@example.com', PASSWORD);
  const queued = await client.post('/mailboxes/test', { ids });
  assert.equal(queued.status, 303, queued.text.slice(0, 300));
}

/** The pid of each process that has RUNNING runs right now, with those runs' mailboxes. */
async function running(db: Database): Promise<Map<number, string[]>> {
  const rows = await db.raw.query<{ pid: number; mailboxId: string }>(
    `SELECT w.pid, r."mailboxId" FROM "TestRun" r JOIN "WorkerProcess" w ON w.id = r."runnerProcessId"
     WHERE r.status = 'RUNNING'`,
  );
  const by = new Map<number, string[]>();
  for (const r of rows) by.set(Number(r.pid), [...(by.get(Number(r.pid)) ?? []), r.mailboxId]);
  return by;
}

const finished = (db: Database, ids: string[]) =>
  db.prisma.mailbox.findMany({
    where: { id: { in: ids }, incomingStatus: { not: 'PENDING' }, outgoingStatus: { not: 'PENDING' } },
  });

const kill9 = async (p: Proc) => {
  p.child.kill('SIGKILL');
  await p.exited;
};

if (dbModes().includes('postgres')) {
  test('three processes, kill -9 one mid-run: the other two finish its mailboxes within 30 s and keep their own runs', async () => {
    const s = await setUp();
    after(() => s.drop());
    const procs = [0, 1, 2].map(() => startProcess(s.env));
    try {
      await Promise.all(procs.map((p) => listeningUrl(p)));
      s.w.mail.imap.setDelay(1500); // every IMAP answer takes 1.5 s: the runs are mid-check when the victim dies
      await requestAll(procs[0], s.ids);
      const [victimPid, orphans] = await waitFor('a process with several runs in flight', async () => {
        const by = await running(s.db);
        const busiest = [...by].sort((a, b) => b[1].length - a[1].length)[0];
        return busiest && busiest[1].length >= 2 && by.size >= 2 ? busiest : undefined;
      });
      const victim = procs.find((p) => p.child.pid === victimPid)!;
      const survivorsRunning = [...(await running(s.db))].filter(([pid]) => pid !== victimPid).flatMap(([, m]) => m);
      await kill9(victim);
      const killedAt = Date.now();
      s.w.mail.imap.setDelay(0);

      const done = await waitFor('the victim’s mailboxes to finish', async () => {
        const rows = await finished(s.db, orphans);
        return rows.length === orphans.length ? rows : undefined;
      });
      const seconds = (Math.max(...done.map((m) => m.lastTestCompletedAt!.getTime())) - killedAt) / 1000;
      console.log(`# ${orphans.length} orphaned mailboxes finished ${seconds.toFixed(1)} s after kill -9`);
      for (const m of done) assert.equal(m.incomingStatus, 'SUCCESS', victim.out());
      assert.ok(seconds <= 30, `finished ${seconds} s after the kill (goal: 30 s)`);

      // Resumed by the survivors' recovery (the job's failure says so), not by pg-boss's two-minute expiry.
      const jobs = await s.db.raw.query<{
        output: { message?: string } | null;
        retry_count: number;
        mailboxId: string;
      }>(
        `SELECT j.output, j.retry_count, j.data->>'mailboxId' AS "mailboxId" FROM pgboss.job j WHERE j.name = 'mailbox-test-enable-runs'`,
      );
      for (const id of orphans) {
        const j = jobs.find((x) => x.mailboxId === id)!;
        assert.equal(j.retry_count, 1, 'the orphan ran once more');
      }
      // A live process's run is never taken: each ran once, by the process that claimed it first.
      for (const id of survivorsRunning) assert.equal(jobs.find((x) => x.mailboxId === id)!.retry_count, 0);
      const all = await waitFor('every mailbox to finish', async () => {
        const rows = await finished(s.db, s.ids);
        return rows.length === s.ids.length ? rows : undefined;
      });
      assert.ok(all.every((m) => m.incomingStatus === 'SUCCESS' && m.outgoingStatus === 'SUCCESS'));
      assert.equal(await s.db.prisma.testRun.count({ where: { mailboxId: { in: s.ids } } }), s.ids.length);
      assert.match(
        procs
          .filter((p) => p !== victim)
          .map((p) => p.out())
          .join(''),
        /mailbox tests interrupted by a crash will run again/,
      );
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
    }
  });

  test('all three killed, one started again: it resumes every orphaned run at start-up', async () => {
    const s = await setUp();
    after(() => s.drop());
    const procs = [0, 1, 2].map(() => startProcess(s.env));
    let restarted: Proc | undefined;
    try {
      await Promise.all(procs.map((p) => listeningUrl(p)));
      s.w.mail.imap.setDelay(3000); // nothing finishes before the kill
      await requestAll(procs[0], s.ids);
      await waitFor('runs in flight', async () => ((await running(s.db)).size >= 2 ? true : undefined));
      await Promise.all(procs.map(kill9));
      const orphaned = await s.db.prisma.testRun.count({ where: { mailboxId: { in: s.ids }, status: 'RUNNING' } });
      assert.ok(orphaned > 0);
      // Wait until the dead are known dead (their heartbeats went stale): then nothing else can resume the runs.
      await waitFor('the killed processes to be stale', async () =>
        (await s.db.raw.query(`SELECT 1 FROM "WorkerProcess" WHERE "heartbeatAt" >= now() - interval '15 seconds'`))
          .length === 0
          ? true
          : undefined,
      );
      s.w.mail.imap.setDelay(0);
      restarted = startProcess(s.env);
      await listeningUrl(restarted);
      const out = restarted.out();
      const resumed = /"count":(\d+)[^\n]*mailbox tests interrupted by a crash will run again/.exec(out);
      assert.ok(resumed, out);
      assert.ok(Number(resumed[1]) >= orphaned, `resumed ${resumed[1]} of ${orphaned}`);
      assert.ok(
        out.indexOf('mailbox tests interrupted by a crash') < out.indexOf('Mailroom is ready'),
        'resumed at start-up, before the process reported ready',
      );
      const all = await waitFor('every mailbox to finish', async () => {
        const rows = await finished(s.db, s.ids);
        return rows.length === s.ids.length ? rows : undefined;
      });
      assert.ok(
        all.every((m) => m.incomingStatus === 'SUCCESS'),
        restarted.out(),
      );
    } finally {
      await Promise.all([...procs.map((p) => p.stop()), restarted?.stop()]);
    }
  });
}
