// Issue 15's goal 2: the mailbox list page at 10 connections while a 1,000-mailbox Test & Enable run is going, and the
// same page with nothing running (same server, same run): the server is `npm start` (role all), the world scale.ts's.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { loadConfig } from '../src/config.ts';
import { createSealer } from '../src/security/secrets.ts';
import { createUser } from '../src/auth/users.ts';
import { BenchBrowser } from './click.ts';
import { cannon } from './pages.ts';
import { seedScale, BENCH_PASSWORD } from './seed.ts';
import { spawnServer } from './start.ts';
import { startRemoteWorld, type RemoteWorld } from './world.ts';
import {
  baseEnv,
  benchPostgres,
  log,
  machineCpuSeconds,
  now,
  procCpuSeconds,
  round,
  sleep,
  tempDir,
  waitForQuiet,
  type Engine,
} from './util.ts';

export interface BusyPagesOptions {
  engines: Engine[];
  /** Mailboxes tested at once (1,000 for the goal). */
  n: number;
  delayMs: number;
  /** C: CHECK_CONCURRENCY of the server. */
  workers: number;
  connections: number;
  durationSeconds: number;
  /** SYNC of the server: off by default, so the figure is about the Test & Enable jobs (recorded in the file). */
  sync: 'on' | 'off';
  quietWaitMs: number;
}

/** The mailboxes still Pending and those that succeeded, read as the list page's live statuses (status.json). */
async function statuses(browser: BenchBrowser, ids: string[]): Promise<{ pending: number; succeeded: number }> {
  let pending = 0;
  let succeeded = 0;
  for (let i = 0; i < ids.length; i += 200) {
    const body = (await browser.getJson(`/mailboxes/status.json?ids=${ids.slice(i, i + 200).join(',')}`)) as {
      mailboxes: Array<{ pending: boolean; incomingStatusCode: string; outgoingStatusCode: string }>;
    };
    for (const m of body.mailboxes) {
      if (m.pending) pending++;
      if (m.incomingStatusCode === 'SUCCESS' && m.outgoingStatusCode === 'SUCCESS') succeeded++;
    }
  }
  return { pending, succeeded };
}

export async function benchBusyPages(o: BusyPagesOptions) {
  const world = await startRemoteWorld(o.delayMs);
  log(`busy-pages: world pid ${world.pid}, one-way delay ${o.delayMs} ms per chunk`);
  const out: Record<string, unknown> = {};
  try {
    for (const engine of o.engines) out[engine] = await benchEngine(engine, world, o);
  } finally {
    await world.close();
  }
  return { options: o, ...out };
}

async function benchEngine(engine: Engine, world: RemoteWorld, o: BusyPagesOptions) {
  const dir = tempDir('busy');
  const pgdb = engine === 'postgres' ? await benchPostgres('busy') : undefined;
  const caFile = join(dir.path, 'mail-ca.pem');
  writeFileSync(caFile, world.ca);
  const env = baseEnv({
    ...world.googleEnv,
    ...(pgdb ? { DATABASE_URL: pgdb.url } : { DATA_DIR: join(dir.path, 'data') }),
    CHECK_CONCURRENCY: String(o.workers),
    MAIL_TLS_CA_FILE: caFile,
    SYNC: o.sync,
    // The HTTPS token endpoint's CA (run.ts made it): Node's fetch reads it only at start-up.
    ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
  });
  try {
    // Seed with the app's own code, then hand the database to the server (PGlite's data dir is one process's).
    const config = loadConfig(env);
    if (!pgdb) mkdirSync(config.dataDir, { recursive: true });
    const db = await openDatabase(config);
    await migrate(db);
    const seed = await seedScale(db.prisma, createSealer(config.secretsKeys.current), world, {
      n: o.n,
      maxConcurrentConnections: 2 * o.workers,
    });
    const admin = `busy-admin-${engine}@bench.test`;
    await createUser(db.prisma, { email: admin, name: 'Bench admin', password: BENCH_PASSWORD, role: 'ADMIN' });
    await db.close();

    const server = await spawnServer(env, { npmStart: true, timeoutMs: 120_000 });
    try {
      // The server answers pages before its job workers have started (src/runtime.ts): let start-up finish.
      await sleep(5000);
      const browser = new BenchBrowser(server.url);
      await browser.signIn(admin, BENCH_PASSWORD);
      const cookie = browser.cookie();
      const target = { name: 'mailboxList', path: '/mailboxes' };
      const measure = async () => {
        const m0 = machineCpuSeconds();
        const s0 = procCpuSeconds(server.serverPid);
        const r = await cannon(server.url, cookie, target, o.connections, o.durationSeconds);
        const s1 = procCpuSeconds(server.serverPid);
        const m1 = machineCpuSeconds();
        return {
          ...r,
          cpuMsPerRequest: r.requests ? round(((s1 - s0) * 1000) / r.requests, 2) : 0,
          serverCores: round((s1 - s0) / o.durationSeconds, 2),
          machineBusy: round((m1.busy - m0.busy) / (m1.total - m0.total), 2),
        };
      };

      // Nothing running: the list page alone (after a warm-up), the baseline of the ratio.
      const quietIdle = await waitForQuiet(o.quietWaitMs);
      await cannon(server.url, cookie, target, o.connections, 2);
      const idle = await measure();
      log(`busy-pages[${engine}]: idle   list p50 ${idle.p50Ms} ms p99 ${idle.p99Ms} ms ${idle.reqPerSec} req/s`);

      // All n at once as an admin does it: the list's "all matching" selection, Test & Enable, confirmed
      // (POST /mailboxes/bulk/test, all=1, the count the confirmation showed); then the same page meanwhile.
      const quietBusy = await waitForQuiet(o.quietWaitMs);
      const csrf = await browser.csrfOf('/mailboxes');
      const t0 = now();
      const form = new URLSearchParams({ _csrf: csrf, all: '1', expected: String(o.n) });
      const status = await browser.postForm('/mailboxes/bulk/test', form);
      if (status !== 303)
        throw new Error(
          `POST /mailboxes/bulk/test answered ${status}; the server said: ${server.stderr().slice(-3000)}`,
        );
      const requestMs = now() - t0;
      const busy = await measure();
      const windowEndMs = now() - t0;
      const atEnd = await statuses(browser, seed.mailboxIds);
      log(
        `busy-pages[${engine}]: during  list p50 ${busy.p50Ms} ms p99 ${busy.p99Ms} ms ${busy.reqPerSec} req/s; at the window's end ${atEnd.pending} of ${o.n} still pending`,
      );
      // The run must outlast the window, or the figure is partly an idle one.
      let last = atEnd;
      let failures = 0;
      while (last.pending > 0 && now() - t0 < 15 * 60_000) {
        await sleep(250);
        try {
          last = await statuses(browser, seed.mailboxIds);
          failures = 0;
        } catch (e) {
          // Seen once at load 28 on PGlite: a status read failed with ECONNRESET mid-run. Say whether the server died.
          if (server.child.exitCode !== null || server.child.signalCode !== null)
            throw new Error(`the server exited during the run: ${server.stderr().slice(-3000)}`);
          if (++failures >= 5) throw e;
          log(`busy-pages[${engine}]: reading the statuses failed (${(e as Error).message}); retrying`);
          await sleep(1000);
        }
      }
      const wallMs = now() - t0;
      log(`busy-pages[${engine}]: the run ended after ${round(wallMs)} ms, ${last.succeeded} of ${o.n} succeeded`);
      return {
        n: o.n,
        workers: o.workers,
        sync: o.sync,
        listMailboxes: o.n,
        idle: { ...idle, machineBusyBefore: quietIdle.busy, flagged: quietIdle.flagged },
        busy: {
          ...busy,
          machineBusyBefore: quietBusy.busy,
          flagged: quietBusy.flagged,
          requestMs: round(requestMs),
          windowMs: [round(requestMs), round(windowEndMs)],
          pendingAtWindowEnd: atEnd.pending,
          runOutlastedWindow: atEnd.pending > 0,
        },
        run: { wallMs: round(wallMs), succeeded: last.succeeded, pendingAtEnd: last.pending },
        p99OverIdle: idle.p99Ms ? round(busy.p99Ms / idle.p99Ms, 2) : null,
        reqPerSecOverIdle: idle.reqPerSec ? round(busy.reqPerSec / idle.reqPerSec, 2) : null,
        p99TargetMs: 300,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await pgdb?.drop();
    dir.remove();
  }
}
