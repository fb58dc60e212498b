// Can the test Dovecot hold N idle imapflow clients (one mailbox each), and what does it cost? Start time, Dovecot's
// and the client process's memory, CPU at rest, delivery→EXISTS latency while all idle. Not in `npm run bench`.
//   npx tsx bench/dovecot-idle.ts [--clients=1000] [--hibernate=1] [--deliveries=50] [--hold=30] [--control]
import { readdirSync, readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { startFakeGoogle } from '../test/fakes/google.ts';
import { startDovecot, type DovecotServer } from '../test/fakes/dovecot.ts';
import { log, machine, now, round, sleep, writeResult } from './util.ts';

const arg = (name: string, fallback: number): number =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const CLIENTS = arg('clients', 1000);
const HIBERNATE = arg('hibernate', 1); // the harness's default
const DELIVERIES = arg('deliveries', 50);
const HOLD_S = arg('hold', 30);
const CONTROL = process.argv.includes('--control');
const CLIENT_ID = 'bench.apps.googleusercontent.com';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
const summary = (xs: number[]) => ({
  n: xs.length,
  p50: round(pct(xs, 50)),
  p95: round(pct(xs, 95)),
  max: round(Math.max(...xs)),
});

/** RSS, PSS (shared pages divided among sharers), CPU ticks and fds of every process in Dovecot's group, by kind. */
function footprint(pgid: number) {
  const kinds: Record<string, { count: number; rssMB: number; pssMB: number }> = {};
  let ticks = 0;
  let loginFds = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue; // field 5: pgrp
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0] ?? '';
      const kind = title.includes('/') ? title.slice(title.indexOf('/') + 1) : 'master';
      const kb = (file: string, key: string) =>
        Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${entry}/${file}`, 'utf8'))?.[1] ?? 0);
      const k = (kinds[kind] ??= { count: 0, rssMB: 0, pssMB: 0 });
      k.count++;
      k.rssMB += kb('status', 'VmRSS') / 1024;
      k.pssMB += kb('smaps_rollup', 'Pss') / 1024;
      if (kind === 'imap-login') loginFds += readdirSync(`/proc/${entry}/fd`).length;
    } catch {
      /* the process ended meanwhile */
    }
  }
  const total = { count: 0, rssMB: 0, pssMB: 0 };
  for (const k of Object.values(kinds)) {
    total.count += k.count;
    total.rssMB += k.rssMB;
    total.pssMB += k.pssMB;
  }
  for (const k of [...Object.values(kinds), total]) {
    k.rssMB = round(k.rssMB);
    k.pssMB = round(k.pssMB);
  }
  return { kinds, total, ticks, loginFds };
}

async function connectAll(d: DovecotServer, auths: { user: string; accessToken: string }[], parallel = 25) {
  const clients: ImapFlow[] = new Array(auths.length);
  const exists: ((count: number) => void)[] = new Array(auths.length).fill(() => {});
  let closed = 0;
  let next = 0;
  async function worker() {
    while (next < auths.length) {
      const i = next++;
      const c = new ImapFlow({
        host: 'localhost',
        port: d.imap.port,
        secure: true,
        tls: { ca: d.ca },
        auth: auths[i]!,
        logger: false,
        connectionTimeout: 120_000,
        greetingTimeout: 120_000,
        socketTimeout: 30 * 60_000,
        maxIdleTime: 25 * 60_000,
      });
      c.on('error', () => {});
      c.on('close', () => {
        closed++;
      });
      c.on('exists', (e: { count: number }) => exists[i]!(e.count));
      await c.connect();
      await c.mailboxOpen('INBOX');
      void c.idle().catch(() => {});
      clients[i] = c;
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return { clients, exists, closed: () => closed };
}

type OnExists = (count: number) => void;

async function latencies(d: DovecotServer, users: string[], exists: OnExists[], n: number): Promise<number[]> {
  const out: number[] = [];
  const counts = new Map<string, number>();
  for (let k = 0; k < n; k++) {
    const i = Math.floor((k * users.length) / n);
    const email = users[i]!;
    const expected = (counts.get(email) ?? 0) + 1;
    counts.set(email, expected);
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no EXISTS for ${email} within 30 s`)), 30_000);
      exists[i] = (count) => {
        if (count >= expected) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    const t0 = now();
    await d.deliver(email, `Message-ID: <bench-${k}@mailroom.test>\r\nSubject: bench ${k}\r\n\r\nx\r\n`);
    await seen;
    out.push(now() - t0);
    await sleep(100);
  }
  return out;
}

async function main() {
  log(`dovecot-idle: ${CLIENTS} clients, hibernate ${HIBERNATE}s, ${DELIVERIES} deliveries, hold ${HOLD_S}s`);
  const google = await startFakeGoogle();
  google.addClient({ clientId: CLIENT_ID, clientSecret: 'x', redirectUris: [] });
  const t0 = now();
  const d = await startDovecot({ google, hibernateSeconds: HIBERNATE });
  const startMs = now() - t0;
  try {
    const users = Array.from({ length: CLIENTS }, (_, i) => `idle${i}@bench.test`);
    const tUsers = now();
    for (const email of users) {
      google.addAccount({ email });
      await d.addUser(email);
    }
    const addUsersMs = now() - tUsers;
    const auths = users.map((user) => ({ user, accessToken: google.issueTokensFor(user, CLIENT_ID).access_token }));
    const idleBefore = footprint(d.pid);
    const rssBefore = process.memoryUsage().rss;
    const tConnect = now();
    const world = await connectAll(d, auths);
    const connectMs = now() - tConnect;
    log(`connected ${CLIENTS} in ${round(connectMs)} ms; holding ${HOLD_S}s`);
    await sleep(Math.max(HIBERNATE + 2, 5) * 1000); // let hibernation (if on) and start-up noise settle
    const f1 = footprint(d.pid);
    const cpu0 = process.cpuUsage();
    const tHold = now();
    await sleep(HOLD_S * 1000);
    const f2 = footprint(d.pid);
    const holdS = (now() - tHold) / 1000;
    const cpuClient = process.cpuUsage(cpu0);
    const counted = await d.connections();
    const lat = await latencies(d, users, world.exists, DELIVERIES);
    let control: unknown;
    if (CONTROL) control = await sameUidControl(d, google);
    const result = {
      clients: CLIENTS,
      hibernateSeconds: HIBERNATE,
      startMs: round(startMs),
      addUsersMs: round(addUsersMs),
      connectMs: round(connectMs),
      heldConnections: counted,
      closedDuringHold: world.closed(),
      dovecot: {
        before: idleBefore.total,
        idle: f1.kinds,
        total: f1.total,
        imapLoginFds: f1.loginFds,
        cpuPercentAtRest: round(((f2.ticks - f1.ticks) / 100 / holdS) * 100, 2),
      },
      clientProcess: {
        rssMB: round(process.memoryUsage().rss / 2 ** 20),
        rssPerClientKB: round((process.memoryUsage().rss - rssBefore) / 1024 / CLIENTS),
        cpuPercentAtRest: round(((cpuClient.user + cpuClient.system) / 1e6 / holdS) * 100, 2),
      },
      deliveryToExistsMs: summary(lat),
      control,
      errors: d.errors().slice(0, 10),
    };
    console.log(JSON.stringify({ machine: machine(), ...result }, null, 2));
    writeResult(`dovecot-idle-${CLIENTS}${HIBERNATE ? `-hibernate${HIBERNATE}` : ''}`, result);
    for (const c of world.clients) c?.close();
  } finally {
    await d.stop();
    await google.close();
  }
}

/**
 * Why every user has a uid of their own: 150 IDLE sessions of ONE user (one uid) exceed the kernel's 128 inotify
 * instances per uid, and Dovecot falls back to polling for the rest (mailbox_idle_check_interval).
 */
async function sameUidControl(d: DovecotServer, google: Awaited<ReturnType<typeof startFakeGoogle>>) {
  const email = 'control@bench.test';
  google.addAccount({ email });
  await d.addUser(email);
  const token = google.issueTokensFor(email, CLIENT_ID).access_token;
  const world = await connectAll(
    d,
    Array.from({ length: 150 }, () => ({ user: email, accessToken: token })),
  );
  await sleep(3000);
  const arrived: number[] = [];
  const t0 = now();
  world.exists.forEach((_, i) => {
    world.exists[i] = () => {
      arrived[i] ??= now() - t0;
    };
  });
  await d.deliver(email, 'Message-ID: <control@mailroom.test>\r\nSubject: control\r\n\r\nx\r\n');
  await sleep(5000);
  for (const c of world.clients) c?.close();
  const got = arrived.filter((x) => x !== undefined);
  const warned = d
    .log()
    .split('\n')
    .filter((l) => /inotify/i.test(l))
    .slice(0, 2);
  return { sessions: 150, told: got.length, latencyMs: summary(got), dovecotSays: warned };
}

await main();
