// Synchronization with several real worker processes on one PostgreSQL against a real Dovecot (issue 11 item 8):
// each mailbox is synchronized by exactly one process and each delivered message stored once; kill -9 one process
// and the other takes its mailboxes over within 30 s with nothing lost or doubled, mail delivered around the kill
// included; a profile's Maximum Concurrent Connections holds across both processes, counted at a TCP proxy in front
// of Dovecot while Test & Enable runs against mailboxes the other process is holding in IDLE.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Database } from '../../src/db/client.ts';
import { dbModes } from '../helpers/db.ts';
import { startProcess, waitForOutput, type Proc } from '../helpers/processes.ts';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  startSyncWorld,
  type SyncMailbox,
  type SyncWorld,
} from '../helpers/sync-cluster-world.ts';
import { TestClient } from '../helpers/client.ts';
import { waitFor } from '../helpers/wait.ts';

const TAKEOVER_GOAL_S = 30;

/** Registration id → pid of the live worker processes. */
async function liveWorkers(db: Database): Promise<Map<string, number>> {
  const rows = await db.raw.query<{ id: string; pid: number }>(
    `SELECT id, pid FROM "WorkerProcess" WHERE "stoppingAt" IS NULL AND "heartbeatAt" >= now() - interval '15 seconds'`,
  );
  return new Map(rows.map((r) => [r.id, Number(r.pid)]));
}

/** Mailbox id → owner process id, for mailboxes whose session is connected (IDLE). */
async function connected(db: Database, ids: string[]): Promise<Map<string, string>> {
  const rows = await db.raw.query<{ mailboxId: string; ownerId: string }>(
    `SELECT "mailboxId", "ownerId" FROM "MailboxSync" WHERE "mailboxId" = ANY($1) AND state = 'CONNECTED' AND "ownerId" IS NOT NULL`,
    [ids],
  );
  return new Map(rows.map((r) => [r.mailboxId, r.ownerId]));
}

/** Stored incoming emails per (mailbox, Message-ID): how many rows each has. */
async function stored(db: Database, ids: string[]): Promise<Map<string, number>> {
  const rows = await db.raw.query<{ key: string; n: number }>(
    `SELECT "mailboxId" || ' ' || "messageId" AS key, count(*)::int AS n FROM "Email"
     WHERE "mailboxId" = ANY($1) AND direction = 'INCOMING' GROUP BY 1`,
    [ids],
  );
  return new Map(rows.map((r) => [r.key, Number(r.n)]));
}

/**
 * Every mailbox holds exactly one IMAP connection. Counted on the client side: the worker processes hold exactly as
 * many established sockets to Dovecot's IMAP port as there are mailboxes (`ss`), and Dovecot has every mailbox logged
 * in at least once — so each has exactly one, and a second owner or a leaked session would make one more socket.
 * Dovecot's own count (`doveadm who`) alone is not enough: after a kill -9 it kept listing a dead connection (CI,
 * 2026-12-02: the survivor held 12 sockets for 12 mailboxes while Dovecot listed an imap and an imap-hibernate process
 * for one of them, for over a minute). Without `ss`, Dovecot's count decides.
 */
async function oneConnectionEach(w: SyncWorld, mailboxes: SyncMailbox[]): Promise<boolean> {
  const sockets = imapSockets(w.dovecot.imap.port);
  const counts = await Promise.all(mailboxes.map((m) => w.dovecot.connections(m.email)));
  if (typeof sockets === 'string') return counts.every((n) => n === 1);
  const held = Object.values(sockets).reduce((a, b) => a + b, 0);
  return held === mailboxes.length && counts.every((n) => n >= 1);
}

/** Established TCP connections to Dovecot's IMAP port, per client process (`ss`), or why `ss` failed. */
function imapSockets(port: number): Record<string, number> | string {
  try {
    const out = execFileSync('ss', ['-Htnp', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' });
    const per: Record<string, number> = {};
    for (const m of out.matchAll(/pid=(\d+)/g)) per[m[1]] = (per[m[1]] ?? 0) + 1;
    return per;
  } catch (e) {
    return `ss failed: ${(e as Error).message}`;
  }
}

/** The Dovecot processes `who` lists for these mailboxes and what each is (imap or imap-hibernate). */
async function dovecotProcesses(w: SyncWorld, ms: SyncMailbox[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const m of ms) {
    const pids = await w.dovecot.whoPids(m.email);
    out[m.id] = pids.map((pid) => {
      try {
        return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`;
      } catch {
        return `${pid} (gone)`;
      }
    });
  }
  return out;
}

const workerEnv = (w: SyncWorld) => ({ ...w.env, MAILROOM_ROLE: 'worker' });

/** The URL a process listens on, waiting as long as start-up takes on a loaded machine (90 s was not enough at load 30). */
async function readyUrl(p: Proc): Promise<string> {
  const [, url] = await waitForOutput(p, /"url":"(http:\/\/localhost:\d+)"[^\n]*"msg":"Mailroom is ready"/, 240_000);
  return url.replace('localhost', '127.0.0.1');
}

if (dbModes().includes('postgres')) {
  describe('two worker processes synchronizing one PostgreSQL', () => {
    let w: SyncWorld;
    let mailboxes: SyncMailbox[];
    let ids: string[];
    const procs: Proc[] = [];
    const delivered = new Map<string, string>(); // "mailboxId messageId" → subject

    before(async () => {
      w = await startSyncWorld({ tag: 'synccluster' });
      // Maximum Concurrent Connections counts per profile: room for all 12 IDLE connections (and a reconnect each).
      const profile = await w.addProfile({ maxConcurrentConnections: 30 });
      mailboxes = await w.addMailboxes(profile, 12);
      ids = mailboxes.map((m) => m.id);
      procs.push(startProcess(workerEnv(w)), startProcess(workerEnv(w)));
    });
    after(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await w?.close();
    });

    async function deliver(m: SyncMailbox, subject: string): Promise<void> {
      delivered.set(`${m.id} ${await w.deliver(m.email, subject)}`, subject);
    }

    test('each mailbox is owned by exactly one process, and each delivered message is stored once', async () => {
      const owners = await waitFor('every mailbox connected, spread over both processes', async () => {
        const live = await liveWorkers(w.db);
        const c = await connected(w.db, ids);
        const per = [...live.keys()].map((id) => [...c.values()].filter((o) => o === id).length);
        return live.size === 2 && c.size === ids.length && per.every((n) => n > 0) ? c : undefined;
      }).catch((e) => {
        throw new Error(`${e.message}\n--- process 1:\n${procs[0].out()}\n--- process 2:\n${procs[1].out()}`);
      });
      const counts = [...new Set(owners.values())].map((o) => [...owners.values()].filter((x) => x === o).length);
      console.log(`# mailboxes per process: ${counts.join(' / ')}`);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 4, `uneven spread ${counts.join('/')}`);
      await waitFor('one Dovecot connection per mailbox', async () =>
        (await oneConnectionEach(w, mailboxes)) ? true : undefined,
      );

      for (let round = 0; round < 3; round++) for (const m of mailboxes) await deliver(m, `round ${round}`);
      const got = await waitFor('every delivered message stored', async () => {
        const s = await stored(w.db, ids);
        return [...delivered.keys()].every((k) => s.has(k)) ? s : undefined;
      });
      assert.equal(got.size, delivered.size, 'nothing stored that was not delivered');
      for (const [k, n] of got) assert.equal(n, 1, `${k} stored ${n} times`);
      const synced = await w.db.prisma.mailboxSync.findMany({ where: { mailboxId: { in: ids } } });
      for (const s of synced) assert.equal(s.messagesSynced, 3, `messagesSynced of ${s.mailboxId}`);
      assert.ok(await oneConnectionEach(w, mailboxes), 'still one connection per mailbox');
      assert.deepEqual(w.dovecot.errors(), []);
    });

    test('kill -9 one process: the other takes its mailboxes over within 30 s; mail delivered around the kill is stored exactly once', async () => {
      const live = await liveWorkers(w.db);
      const before = await connected(w.db, ids);
      const byPid = new Map([...live].map(([id, pid]) => [pid, id]));
      const victim = procs.find((p) => byPid.has(p.child.pid!))!;
      const victimId = byPid.get(victim.child.pid!)!;
      const survivorId = [...live.keys()].find((id) => id !== victimId)!;
      const orphans = mailboxes.filter((m) => before.get(m.id) === victimId);
      assert.ok(orphans.length > 0, 'the victim owns mailboxes');

      // Mail keeps arriving, round-robin over every mailbox, from before the kill until after the takeover.
      let delivering = true;
      let n = 0;
      const deliverer = (async () => {
        while (delivering) {
          await deliver(mailboxes[n % mailboxes.length], `around the kill ${n}`);
          n++;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      try {
        await waitFor('some mail before the kill', async () => (n >= mailboxes.length ? true : undefined));

        victim.child.kill('SIGKILL');
        await victim.exited;
        const killedAt = Date.now();
        const firstAfter = new Map<string, string>(); // orphan → first Message-ID delivered to it after the kill
        for (const m of orphans) {
          const id = await w.deliver(m.email, 'right after the kill');
          delivered.set(`${m.id} ${id}`, 'right after the kill');
          firstAfter.set(m.id, `${m.id} ${id}`);
        }

        const takenOver = await waitFor(
          'the orphans connected in the survivor',
          async () => {
            const c = await connected(w.db, ids);
            return orphans.every((m) => c.get(m.id) === survivorId) ? Date.now() : undefined;
          },
          { intervalMs: 100 },
        );
        const visible = await waitFor(
          'the mail delivered right after the kill to be stored',
          async () => {
            const s = await stored(w.db, ids);
            return [...firstAfter.values()].every((k) => s.has(k)) ? Date.now() : undefined;
          },
          { intervalMs: 100 },
        );
        const takeoverS = (takenOver - killedAt) / 1000;
        const visibleS = (visible - killedAt) / 1000;
        console.log(
          `# kill -9 of a process owning ${orphans.length} of ${ids.length} mailboxes: all connected in the survivor after ${takeoverS.toFixed(1)} s; mail delivered right after the kill stored after ${visibleS.toFixed(1)} s`,
        );
        assert.ok(takeoverS <= TAKEOVER_GOAL_S, `takeover took ${takeoverS} s (goal ${TAKEOVER_GOAL_S} s)`);
        assert.ok(visibleS <= TAKEOVER_GOAL_S, `mail waited ${visibleS} s after the kill`);

        await new Promise((r) => setTimeout(r, 2000));
      } finally {
        delivering = false;
        await deliverer;
      }
      const got = await waitFor('every message delivered around the kill stored', async () => {
        const s = await stored(w.db, ids);
        return [...delivered.keys()].every((k) => s.has(k)) ? s : undefined;
      });
      console.log(`# ${delivered.size} messages delivered in all (${n} around the kill), each stored once`);
      assert.equal(got.size, delivered.size, 'nothing stored that was not delivered');
      for (const [k, count] of got) assert.equal(count, 1, `${k} stored ${count} times`);
      const perMailbox = await w.db.raw.query<{ mailboxId: string; n: number; synced: number }>(
        `SELECT s."mailboxId", s."messagesSynced" AS synced,
                (SELECT count(*)::int FROM "Email" e WHERE e."mailboxId" = s."mailboxId") AS n
         FROM "MailboxSync" s WHERE s."mailboxId" = ANY($1)`,
        [ids],
      );
      for (const r of perMailbox) assert.equal(Number(r.synced), Number(r.n), `messagesSynced of ${r.mailboxId}`);
      try {
        await waitFor('one Dovecot connection per mailbox again', async () =>
          (await oneConnectionEach(w, mailboxes)) ? true : undefined,
        );
      } catch (e) {
        // Say which mailboxes differ and what the database says of them (seen once at load 5: timed out here).
        const counts = await Promise.all(mailboxes.map(async (m) => [m.id, await w.dovecot.connections(m.email)]));
        const rows = await w.db.raw.query(
          `SELECT "mailboxId", "ownerId", state, "lastErrorCode", "retryCount", "nextAttemptAt" FROM "MailboxSync" WHERE "mailboxId" = ANY($1)`,
          [ids],
        );
        // What each side counts: the workers' sockets and Dovecot's connections per mailbox.
        throw new Error(
          `${(e as Error).message}; Dovecot connections per mailbox ${JSON.stringify(counts.filter(([, n]) => n !== 1))}; sync rows ${JSON.stringify(rows)}; IMAP sockets per client process ${JSON.stringify(imapSockets(w.dovecot.imap.port))}; Dovecot processes of those mailboxes ${JSON.stringify(
            await dovecotProcesses(
              w,
              mailboxes.filter((m) => counts.some(([id, n]) => id === m.id && n !== 1)),
            ),
          )}`,
        );
      }
    });
  });

  describe('Maximum Concurrent Connections across two processes', () => {
    let w: SyncWorld;
    const procs: Proc[] = [];
    after(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await w?.close();
    });

    test('a profile capped at 1: IDLE and Test & Enable from either process never hold two connections at once', async () => {
      w = await startSyncWorld({ tag: 'syncmcc' });
      // One mailbox per profile, each behind its own counting proxy: whether the cap is read per mailbox or per
      // profile (decision 012), one connection at a time is the limit here.
      const profiles = [await w.addProfile({ maxConcurrentConnections: 1, proxy: true })];
      profiles.push(await w.addProfile({ maxConcurrentConnections: 1, proxy: true }));
      const mailboxes = [...(await w.addMailboxes(profiles[0], 1)), ...(await w.addMailboxes(profiles[1], 1))];
      const ids = mailboxes.map((m) => m.id);
      procs.push(startProcess(w.env), startProcess(w.env)); // role all: pages, Test & Enable and sync
      const url = await readyUrl(procs[0]);
      await readyUrl(procs[1]);
      await waitFor('both mailboxes connected', async () =>
        (await connected(w.db, ids)).size === 2 ? true : undefined,
      );
      const client = new TestClient(url);
      await client.login(ADMIN_EMAIL, ADMIN_PASSWORD);

      // Run Test & Enable until at least one run happened in the process that does not own the mailbox (pg-boss
      // decides where a job runs), at most 6 rounds.
      let crossProcess = 0;
      for (let round = 0; round < 6 && crossProcess === 0; round++) {
        const since = new Date();
        const res = await client.post('/mailboxes/test', { ids });
        assert.equal(res.status, 303, res.text.slice(0, 300));
        await waitFor('both test runs finished', async () => {
          const runs = await w.db.prisma.testRun.findMany({
            where: { mailboxId: { in: ids }, startedAt: { gte: since }, finishedAt: { not: null } },
          });
          return runs.length === ids.length ? runs : undefined;
        });
        const rows = await w.db.raw.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "TestRun" r JOIN "MailboxSync" s ON s."mailboxId" = r."mailboxId"
           WHERE r."mailboxId" = ANY($1) AND r."startedAt" >= $2 AND r."runnerProcessId" IS DISTINCT FROM s."ownerId"`,
          [ids, since],
        );
        crossProcess += Number(rows[0].n);
      }
      console.log(`# Test & Enable runs in the process not holding the IDLE connection: ${crossProcess}`);
      assert.ok(crossProcess > 0, 'no run happened across processes: the test proved nothing');
      const statuses = await w.db.prisma.mailbox.findMany({ where: { id: { in: ids } } });
      for (const m of statuses) assert.equal(m.incomingStatus, 'SUCCESS', `Test & Enable of ${m.emailAddress}`);

      // Synchronization comes back after each test and still receives mail.
      await waitFor('both mailboxes connected again', async () =>
        (await connected(w.db, ids)).size === 2 ? true : undefined,
      );
      const sent: string[] = [];
      for (const m of mailboxes) sent.push(`${m.id} ${await w.deliver(m.email, 'after the tests')}`);
      await waitFor('mail after the tests stored', async () => {
        const s = await stored(w.db, ids);
        return sent.every((k) => s.has(k)) ? true : undefined;
      });
      for (const p of profiles) {
        console.log(`# proxy: ${p.proxy!.connections.length} connections in all, at most ${p.proxy!.peak()} at once`);
        assert.equal(p.proxy!.peak(), 1, 'Maximum Concurrent Connections = 1 was exceeded');
      }
    });
  });
}
