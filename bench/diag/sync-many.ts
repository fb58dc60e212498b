// Where the time goes when many mailboxes receive mail at once (issue 11, decision 031): a real worker process on
// PostgreSQL and a real Dovecot, N mailboxes, rounds of one delivery to each at once. Per round: delivery → stored
// latency (p50/p95/max) and the CPU seconds of the worker, of Dovecot (its process group, reaped children included)
// and of the PostgreSQL backends of the bench database (approximate: a backend the pool replaced mid-round is lost).
// Several checkouts alternate in the same run (A/B), SYNC_CYCLES times each (default 2):
//   npx tsx bench/diag/sync-many.ts [mailboxes=200] [rounds=4] [root=.] [root2 …]
// `root` runs the worker from another checkout (with node_modules and src/generated). SYNC_PROF=<dir> writes a CPU
// profile of each worker there (node --cpu-prof). PostgreSQL: BENCH_POSTGRES_URL or the local default. Needs root
// (Dovecot).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { groupMembers } from '../../test/fakes/dovecot/process.ts';
import { startSyncWorld, type SyncMailbox, type SyncWorld } from '../../test/helpers/sync-cluster-world.ts';
import { deliverAndWait, pct } from '../sync.ts';
import { ADMIN_URL, now, round, sleep } from '../util.ts';

const [nArg = '200', roundsArg = '4', ...rootArgs] = process.argv.slice(2);
const N = Number(nArg);
const ROUNDS = Number(roundsArg);
const ROOTS = (rootArgs.length ? rootArgs : ['.']).map((r) => resolve(r));
const TICK = 100; // USER_HZ

function ticks(pid: number, children = false): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after the comm: state(0) … utime(11) stime(12) cutime(13) cstime(14)
    return Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return 0;
  }
}

interface Worker {
  child: ChildProcess;
  out: string;
  exited: Promise<number | null>;
}
function startWorker(root: string, env: Record<string, string>): Worker {
  const prof = process.env.SYNC_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SYNC_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env },
  });
  const w: Worker = { child, out: '', exited: new Promise((r) => child.on('exit', (c) => r(c))) };
  child.stdout!.on('data', (d) => {
    w.out += d;
  });
  child.stderr!.on('data', (d) => {
    w.out += d;
  });
  return w;
}

async function connected(w: SyncWorld, ids: string[]): Promise<number> {
  const [r] = await w.db.raw.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "MailboxSync" WHERE "mailboxId" = ANY($1) AND state = 'CONNECTED'`,
    [ids],
  );
  return Number(r.n);
}

async function pgPids(w: SyncWorld): Promise<number[]> {
  const rows = await w.db.raw.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  return rows.map((r) => Number(r.pid));
}

async function round1(w: SyncWorld, worker: Worker, boxes: SyncMailbox[]) {
  const dovecotPid = w.dovecot.pid;
  const dov = () =>
    groupMembers(dovecotPid).reduce((a, p) => a + ticks(p), 0) + ticks(dovecotPid, true) - ticks(dovecotPid);
  const pids = await pgPids(w);
  const pg = () => pids.reduce((a, p) => a + ticks(p), 0);
  const wpid = worker.child.pid!;
  const c0 = { worker: ticks(wpid), dovecot: dov(), pg: pg(), t: now() };
  const { sent, seen } = await deliverAndWait(w, boxes);
  const wall = (now() - c0.t) / 1000;
  const c1 = { worker: ticks(wpid), dovecot: dov(), pg: pg() };
  const lat = sent.filter((s) => seen.has(s.messageId)).map((s) => seen.get(s.messageId)! - s.t);
  return {
    stored: lat.length,
    p50: round(pct(lat, 50)),
    p95: round(pct(lat, 95)),
    max: round(pct(lat, 100)),
    wall: round(wall, 2),
    cpu: {
      worker: round((c1.worker - c0.worker) / TICK, 2),
      dovecot: round((c1.dovecot - c0.dovecot) / TICK, 2),
      postgres: round((c1.pg - c0.pg) / TICK, 2),
    },
  };
}

async function main() {
  // SYNC_HIBERNATE: Dovecot's imap_hibernate_timeout in seconds (the bench's 1 by default; 0 keeps every IDLE in
  // its own imap process, so new mail costs Dovecot no unhibernation).
  const hibernateSeconds = Number(process.env.SYNC_HIBERNATE ?? 1);
  const w = await startSyncWorld({ adminUrl: ADMIN_URL, tag: 'diagmany', hibernateSeconds });
  const workers: Worker[] = [];
  process.once('SIGTERM', () => {
    for (const x of workers) x.child.kill('SIGKILL');
    void w.close().finally(() => process.exit(1));
  });
  try {
    const profile = await w.addProfile({ maxConcurrentConnections: 5000 });
    const boxes = await w.addMailboxes(profile, N);
    const ids = boxes.map((b) => b.id);
    const results: Record<string, unknown[]> = {};
    for (let cycle = 0; cycle < Number(process.env.SYNC_CYCLES ?? 2); cycle++)
      for (const root of ROOTS) {
        const worker = startWorker(root, {
          ...w.env,
          MAILROOM_ROLE: 'worker',
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
        });
        workers.push(worker);
        const t0 = now();
        while ((await connected(w, ids)) < N) {
          if (worker.child.exitCode !== null) throw new Error(worker.out.slice(-3000));
          if (now() - t0 > 600_000) throw new Error(`not connected: ${worker.out.slice(-3000)}`);
          await sleep(300);
        }
        process.stderr.write(`${root}: ${N} connected in ${round((now() - t0) / 1000, 1)} s, load ${loadavg()[0]}\n`);
        await sleep(5000);
        for (let r = 0; r < ROUNDS; r++) {
          const res = await round1(w, worker, boxes);
          await sleep(1500);
          const line = { root, load1: round(loadavg()[0], 1), ...res };
          (results[root] ??= []).push(line);
          process.stderr.write(`${JSON.stringify(line)}\n`);
          await sleep(2000);
        }
        worker.child.kill('SIGTERM');
        const code = await Promise.race([worker.exited, sleep(30_000).then(() => 'timeout')]);
        if (code === 'timeout') worker.child.kill('SIGKILL');
        await w.db.raw.query(`UPDATE "MailboxSync" SET state = 'STOPPED' WHERE "mailboxId" = ANY($1)`, [ids]);
        await sleep(2000);
      }
    console.log(JSON.stringify(results, null, 1));
  } finally {
    await w.close();
  }
}

await main();
