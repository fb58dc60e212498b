// Test & Enable at scale: N mailboxes at global concurrency C vs one mailbox alone vs concurrency 1, through delaying proxies.
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.ts';
import { createUser } from '../src/auth/users.ts';
import { BenchBrowser } from './click.ts';
import { openDatabase, type Database } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import type { Jobs } from '../src/jobs/boss.ts';
import { buildDeps } from '../src/compose.ts';
import { startWorkers } from '../src/workers.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { createSealer, type Sealer } from '../src/security/secrets.ts';
import type { MailboxTests } from '../src/checks/job.ts';
import { startRemoteWorld, type RemoteWorld } from './world.ts';
import { seedScale, resetForRun, BENCH_PASSWORD } from './seed.ts';
import {
  baseEnv,
  benchPostgres,
  machineCpuSeconds,
  procCpuSeconds,
  waitForQuiet,
  log,
  median,
  now,
  round,
  sleep,
  tempDir,
  type Engine,
} from './util.ts';

export interface ScaleOptions {
  engines: Engine[];
  n: number;
  delayMs: number;
  workers: number;
  singles: number;
  /** Mailboxes in the one-at-a-time run (at least 200 for the goal; all N when fewer). */
  c1Min: number;
  quietWaitMs: number;
}

interface Instance {
  db: Database;
  jobs: Jobs;
  tests: MailboxTests;
  sealer: Sealer;
  /** The app's pages on a loopback port, as the server serves them (same process, same database). */
  url: string;
  close(): Promise<void>;
}

/** The app's Test & Enable service on a database, composed like src/runtime.ts (role all, no HTTP listener needed). */
export async function startInstance(
  engine: Engine,
  where: string,
  world: RemoteWorld,
  workers: number,
  env: Record<string, string>,
): Promise<Instance> {
  const config = loadConfig({
    ...env,
    ...world.googleEnv,
    DATA_DIR: engine === 'pglite' ? where : '/nonexistent',
    ...(engine === 'postgres' ? { DATABASE_URL: where } : {}),
    CHECK_CONCURRENCY: String(workers),
  });
  const db = await openDatabase(config);
  await migrate(db);
  const logger = createLogger(config.logLevel);
  const sealer = createSealer(config.secretsKeys.current);
  const deps = buildDeps({ config, db, logger, sealer, mailTlsCa: world.ca, checks: { workers } });
  const jobs = deps.jobs!;
  const running = await startWorkers(deps, { schedules: false });
  const server = createServer(createApp(deps));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    db,
    jobs,
    sealer,
    tests: deps.tests as MailboxTests,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await jobs.stop();
      await running.stop();
      await db.close();
    },
  };
}

const pendingWhere = { OR: [{ incomingStatus: 'PENDING' as const }, { outgoingStatus: 'PENDING' as const }] };

/** Requests Test & Enable for ids and waits until none is Pending; returns times in ms from the request. */
export async function runBatch(inst: Instance, ids: string[], pollMs: number, worldPid?: number, click?: BenchBrowser) {
  const m0 = machineCpuSeconds();
  const w0 = worldPid ? procCpuSeconds(worldPid) : NaN;
  const { prisma } = inst.db;
  const cpu0 = process.cpuUsage();
  const clickToken = click ? await click.csrfOf(`/mailboxes/${ids[0]}`) : undefined;
  const epoch0 = Date.now();
  const t0 = now();
  if (click) {
    // One mailbox's Test & Enable button: the CSRF token was read from its page before the clock started.
    const status = await click.post(`/mailboxes/${ids[0]}/test`, { _csrf: clickToken! });
    if (status !== 303) throw new Error(`Test & Enable answered ${status}`);
  } else {
    const r = await inst.tests.request(ids, null);
    if (r.queued.length !== ids.length) throw new Error(`only ${r.queued.length} of ${ids.length} queued`);
  }
  const requested = now() - t0;
  for (;;) {
    const pending =
      ids.length === 1
        ? await prisma.mailbox.count({ where: { id: ids[0], ...pendingWhere } })
        : await prisma.mailbox.count({ where: pendingWhere });
    if (pending === 0) break;
    if (now() - t0 > 15 * 60_000) throw new Error(`${pending} mailboxes still pending after 15 min`);
    await sleep(pollMs);
  }
  const wall = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const m1 = machineCpuSeconds();
  const w1 = worldPid ? procCpuSeconds(worldPid) : NaN;
  // Share of one core used by this (app) process and the fakes' process; machine: share of all cores busy.
  const cpuShare = {
    app: round((cpu.user + cpu.system) / 1000 / wall, 2),
    world: round(((w1 - w0) * 1000) / wall, 2),
    machine: round((m1.busy - m0.busy) / (m1.total - m0.total), 2),
  };
  const ok = await prisma.mailbox.count({
    where: {
      id: { in: ids },
      incomingStatus: 'SUCCESS',
      outgoingStatus: 'SUCCESS',
      enabledForIncoming: true,
      enabledForOutgoing: true,
    },
  });
  const runs = await prisma.testRun.findMany({
    where: {
      mailboxId: { in: ids },
      status: { in: ['SUCCESS', 'FAILURE'] },
      startedAt: { gte: new Date(Date.now() - wall - 1000) },
    },
    select: { startedAt: true, finishedAt: true },
  });
  const durations = runs.map((x) => x.finishedAt!.getTime() - x.startedAt.getTime());
  // A run's startedAt is set by the worker's claim (the database's now()): request → claim is the pick-up latency.
  const pickups = runs.map((x) => x.startedAt.getTime() - epoch0);
  return {
    wallMs: wall,
    requestMs: requested,
    succeeded: ok,
    jobMsMedian: durations.length ? median(durations) : null,
    jobMsMax: durations.length ? Math.max(...durations) : null,
    pickupMsMin: pickups.length ? Math.min(...pickups) : null,
    cpu: cpuShare,
    /** Each run's claim and final write, ms after the request (diagnostics: bench/diag/te-cpu.ts). */
    runs: runs.map((x) => [x.startedAt.getTime() - epoch0, x.finishedAt!.getTime() - epoch0] as const),
  };
}

export async function benchScale(o: ScaleOptions) {
  const world = await startRemoteWorld(o.delayMs);
  log(`scale: world pid ${world.pid}, one-way delay ${o.delayMs} ms per chunk (token endpoint, IMAP, SMTP)`);
  const out: Record<string, unknown> = {};
  try {
    for (const engine of o.engines) out[engine] = await benchEngine(engine, world, o);
  } finally {
    await world.close();
  }
  return { options: o, ...out };
}

async function benchEngine(engine: Engine, world: RemoteWorld, o: ScaleOptions) {
  // SYNC=off: the tested mailboxes are enabled for synchronization; with it on, the app would start syncing each one
  // as its test ends, and the figures would mix the sync engine into Test & Enable's (busy-pages does the same).
  const env = baseEnv({ SYNC: 'off' });
  const dir = engine === 'pglite' ? tempDir('scale') : undefined;
  const pgdb = engine === 'postgres' ? await benchPostgres('scale') : undefined;
  const where = dir ? join(dir.path) : pgdb!.url;
  try {
    // Concurrency C: seed, one mailbox alone (several times), then all N.
    let inst = await startInstance(engine, where, world, o.workers, env);
    const t = now();
    const seed = await seedScale(inst.db.prisma, inst.sealer, world, {
      n: o.n,
      maxConcurrentConnections: 2 * o.workers,
    });
    log(`scale[${engine}]: seeded ${o.n} mailboxes on ${seed.profileIds.length} profiles in ${round(now() - t)} ms`);
    // A signed-in admin clicks Test & Enable Mailbox on each mailbox's page, one at a time.
    const admin = `bench-admin-${engine}@bench.test`;
    await createUser(inst.db.prisma, { email: admin, name: 'Bench admin', password: BENCH_PASSWORD, role: 'ADMIN' });
    const browser = new BenchBrowser(inst.url);
    await browser.signIn(admin, BENCH_PASSWORD);
    const quiet: Record<string, unknown> = { singles: await waitForQuiet(o.quietWaitMs) };
    const singles: number[] = [];
    const pickups: number[] = [];
    const jobs: number[] = [];
    for (let i = 0; i < o.singles; i++) {
      const id = seed.mailboxIds[i];
      await resetForRun(inst.db.prisma, [id]);
      const r = await runBatch(inst, [id], 5, undefined, browser);
      if (r.succeeded !== 1) throw new Error('single mailbox test did not succeed');
      singles.push(r.wallMs);
      pickups.push(r.pickupMsMin!);
      jobs.push(r.jobMsMedian!);
    }
    const one = median(singles);
    log(
      `scale[${engine}]: one mailbox, click → result ${singles.map((x) => round(x)).join(', ')} ms (median ${round(one)}); click → job started ${pickups.join(', ')} ms (median ${median(pickups)}); job ${jobs.join(', ')} ms`,
    );

    quiet.all = await waitForQuiet(o.quietWaitMs);
    const before = await world.stats();
    await resetForRun(inst.db.prisma, seed.mailboxIds);
    const all = await runBatch(inst, seed.mailboxIds, 50, world.pid);
    const after = await world.stats();
    const refreshes = after.refreshes - before.refreshes;
    log(
      `scale[${engine}]: ${o.n} mailboxes at C=${o.workers}: ${round(all.wallMs)} ms (request ${round(all.requestMs)} ms), ${all.succeeded} succeeded, ${refreshes} refreshes`,
    );
    if (all.succeeded !== o.n || refreshes !== o.n)
      log(
        `scale[${engine}]: WARNING: expected ${o.n} successes and ${o.n} token refreshes: the figures are not comparable`,
      );
    await inst.close();

    // Concurrency 1 on the same data, measured over c1Min mailboxes (not extrapolated from fewer).
    inst = await startInstance(engine, where, world, 1, env);
    const n1 = Math.min(o.n, o.c1Min);
    const ids1 = seed.mailboxIds.slice(0, n1);
    await resetForRun(inst.db.prisma, ids1);
    quiet.concurrency1 = await waitForQuiet(o.quietWaitMs);
    const c1 = await runBatch(inst, ids1, 50);
    if (c1.succeeded !== n1) log(`scale[${engine}]: WARNING: only ${c1.succeeded} of ${n1} succeeded at C=1`);
    await inst.close();
    const c1PerMailbox = c1.wallMs / n1;
    log(
      `scale[${engine}]: C=1, ${n1} mailboxes: ${round(c1.wallMs)} ms (${round(c1PerMailbox)} ms a mailbox, job median ${c1.jobMsMedian} ms)`,
    );

    // The job time without pick-up latency: the median job of the one-at-a-time run (same data, same run).
    const jobMs = c1.jobMsMedian ?? median(jobs);
    const ideal = Math.ceil(o.n / o.workers) * jobMs;
    return {
      n: o.n,
      workers: o.workers,
      delayMs: o.delayMs,
      profiles: seed.profileIds.length,
      maxConcurrentConnections: 2 * o.workers,
      tokenEndpoint: world.googleEnv.GOOGLE_TOKEN_URL.startsWith('https:') ? 'https' : 'http',
      sync: 'off',
      oneMailboxMs: round(one),
      oneMailboxRunsMs: singles.map((x) => round(x)),
      pickupMsMedian: median(pickups),
      pickupMsRuns: pickups,
      pickupTargetMs: 50,
      oneMailboxJobMs: median(jobs),
      all: {
        wallMs: round(all.wallMs),
        requestMs: round(all.requestMs),
        succeeded: all.succeeded,
        tokenRefreshes: refreshes,
        jobMsMedian: all.jobMsMedian,
        jobMsMax: all.jobMsMax,
        cpu: all.cpu,
      },
      concurrency1: {
        n: n1,
        wallMs: round(c1.wallMs),
        succeeded: c1.succeeded,
        jobMsMedian: c1.jobMsMedian,
        perMailboxMs: round(c1PerMailbox),
      },
      jobMs,
      ratio: round(all.wallMs / ideal, 2),
      ratioTarget: 1.3,
      speedup: round((c1PerMailbox * o.n) / all.wallMs, 1),
      machineBeforeEachRun: quiet,
    };
  } finally {
    dir?.remove();
    await pgdb?.drop();
  }
}
