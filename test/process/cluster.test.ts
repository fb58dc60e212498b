// Several worker processes on one PostgreSQL, as real processes: each mailbox is run by one process at a time and
// spread evenly, a kill -9'd process's mailboxes are taken over within 30 s (default timings), and a semaphore with
// limit 2 shared by two processes never lets a third connection reach the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createTestDb, dbModes } from '../helpers/db.ts';
import { createEnabledMailboxes } from '../helpers/sync-fixtures.ts';
import { until } from '../helpers/until.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const onPostgres = dbModes().includes('postgres');

interface Event {
  pid: number;
  t: number;
  ev: string;
  id?: string;
  reason?: string;
}

function child(env: Record<string, string>) {
  const events: Event[] = [];
  let err = '';
  let buf = '';
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/process/cluster-child.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      events.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, events, stderr: () => err, exited };
}

/** Mailboxes each process runs now, from its start/stop lines. */
function runningBy(events: Event[]): Map<number, Set<string>> {
  const by = new Map<number, Set<string>>();
  for (const e of events) {
    const set = by.get(e.pid) ?? new Set();
    by.set(e.pid, set);
    if (e.ev === 'start') set.add(e.id!);
    else if (e.ev === 'stop') set.delete(e.id!);
  }
  return by;
}

/** Every pair of sessions of one mailbox in different processes must not overlap in time (a killed one ends at its kill). */
function overlaps(events: Event[], killedAt: Map<number, number>): string[] {
  const sessions = new Map<string, { pid: number; from: number; to: number }[]>();
  const open = new Map<string, { pid: number; from: number }>();
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    const k = `${e.pid}:${e.id}`;
    if (e.ev === 'start') open.set(k, { pid: e.pid, from: e.t });
    if (e.ev === 'stop' && open.has(k)) {
      const s = open.get(k)!;
      open.delete(k);
      sessions.set(e.id!, [...(sessions.get(e.id!) ?? []), { ...s, to: e.t }]);
    }
  }
  for (const [k, s] of open) {
    const id = k.slice(k.indexOf(':') + 1);
    sessions.set(id, [...(sessions.get(id) ?? []), { ...s, to: killedAt.get(s.pid) ?? Infinity }]);
  }
  const bad: string[] = [];
  for (const [id, list] of sessions) {
    for (const a of list)
      for (const b of list)
        if (a.pid < b.pid && a.from < b.to && b.from < a.to)
          bad.push(`${id}: ${a.pid} [${a.from},${a.to}] and ${b.pid} [${b.from},${b.to}]`);
  }
  return bad;
}

test('two worker processes: each mailbox owned once, spread evenly; kill -9 one, the other takes over within 30 s', {
  skip: !onPostgres,
}, async () => {
  const t = await createTestDb('postgres');
  const kids: ReturnType<typeof child>[] = [];
  try {
    const { ids } = await createEnabledMailboxes(t.db.prisma, 12);
    const env = { CHILD_MODE: 'own', DATABASE_URL: t.url! }; // default timings: heartbeat 5 s, dead after 15 s
    kids.push(child(env), child(env));
    const all = () => kids.flatMap((k) => k.events);
    await until(
      'both processes running 6 mailboxes each',
      () => {
        const by = runningBy(all());
        const counts = kids.map((k) => by.get(k.proc.pid!)?.size ?? 0);
        return counts[0] === 6 && counts[1] === 6 ? counts : undefined;
      },
      90_000,
      100,
    );
    const owners = await t.db.raw.query<{ ownerId: string; n: number }>(
      'SELECT "ownerId", count(*)::int AS n FROM "MailboxSync" GROUP BY "ownerId"',
    );
    assert.deepEqual(owners.map((o) => Number(o.n)).sort(), [6, 6], JSON.stringify(owners));
    assert.deepEqual(overlaps(all(), new Map()), []);

    const [victim, survivor] = kids;
    const killedAt = Date.now();
    victim.proc.kill('SIGKILL');
    await victim.exited;
    const takeover = await until(
      'the survivor to run all 12',
      () => {
        const mine = runningBy(survivor.events).get(survivor.proc.pid!) ?? new Set();
        return ids.every((id) => mine.has(id))
          ? Math.max(...survivor.events.filter((e) => e.ev === 'start').map((e) => e.t)) - killedAt
          : undefined;
      },
      60_000,
      100,
    );
    assert.ok(takeover <= 30_000, `takeover took ${takeover} ms`);
    assert.deepEqual(overlaps(all(), new Map([[victim.proc.pid!, killedAt]])), []);
    const rows = await t.db.raw.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM "MailboxSync" WHERE "ownerId" = (SELECT id FROM "WorkerProcess" WHERE pid = $1)',
      [survivor.proc.pid],
    );
    assert.equal(Number(rows[0].n), 12);
    console.log(`takeover after kill -9: ${takeover} ms`);
  } finally {
    for (const k of kids)
      if (k.proc.exitCode === null && k.proc.signalCode === null) {
        k.proc.kill('SIGTERM');
        await k.exited;
      }
    await t.drop();
  }
});

test('a semaphore with limit 2 shared by two processes: never more than 2 connections at the server', {
  skip: !onPostgres,
}, async () => {
  const t = await createTestDb('postgres');
  let open = 0;
  let max = 0;
  let total = 0;
  const server = createServer((s: Socket) => {
    open++;
    total++;
    max = Math.max(max, open);
    let counted = true;
    const done = () => {
      if (counted) {
        counted = false;
        open--;
      }
    };
    s.on('data', () => {
      done();
      s.end();
    });
    s.on('close', done);
    s.on('error', done);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const kids: ReturnType<typeof child>[] = [];
  try {
    const env = {
      CHILD_MODE: 'sem',
      DATABASE_URL: t.url!,
      SERVER_PORT: String((server.address() as AddressInfo).port),
      ROUNDS: '8',
    };
    kids.push(child(env), child(env));
    const codes = await Promise.all(kids.map((k) => k.exited));
    assert.deepEqual(codes, [0, 0], kids.map((k) => k.stderr()).join('\n'));
    assert.equal(total, 2 * 3 * 8);
    assert.equal(max, 2, `max concurrent connections seen by the server: ${max}`);
    console.log(`semaphore across 2 processes × 3 loops: ${total} connections, at most ${max} at once`);
  } finally {
    for (const k of kids)
      if (k.proc.exitCode === null) {
        k.proc.kill('SIGTERM');
        await k.exited;
      }
    server.close();
    await t.drop();
  }
});
