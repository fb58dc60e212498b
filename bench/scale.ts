// Test & Enable at scale: N mailboxes at global concurrency C vs one mailbox alone vs concurrency 1, through delaying proxies.
import { join } from 'node:path';
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
import { seedScale, resetForRun } from './seed.ts';
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
  c1BudgetSeconds: number;
  quietWaitMs: number;
}

interface Instance {
  db: Database;
  jobs: Jobs;
  tests: MailboxTests;
  sealer: Sealer;
  close(): Promise<void>;
}

/** The app's Test & Enable service on a database, composed like src/runtime.ts (role all, no HTTP listener needed). */
async function startInstance(
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
  return {
    db,
    jobs,
    sealer,
    tests: deps.tests as MailboxTests,
    close: async () => {
      await jobs.stop();
      await running.stop();
      await db.close();
    },
  };
}

const pendingWhere = { OR: [{ incomingStatus: 'PENDING' as const }, { outgoingStatus: 'PENDING' as const }] };

/** Requests Test & Enable for ids and waits until none is Pending; returns times in ms from the request. */
async function runBatch(inst: Instance, ids: string[], pollMs: number, worldPid?: number) {
  const m0 = machineCpuSeconds();
  const w0 = worldPid ? procCpuSeconds(worldPid) : NaN;
  const { prisma } = inst.db;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const r = await inst.tests.request(ids, null);
  const requested = now() - t0;
  if (r.queued.length !== ids.length) throw new Error(`only ${r.queued.length} of ${ids.length} queued`);
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
  return {
    wallMs: wall,
    requestMs: requested,
    succeeded: ok,
    jobMsMedian: durations.length ? median(durations) : null,
    jobMsMax: durations.length ? Math.max(...durations) : null,
    cpu: cpuShare,
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
  const env = baseEnv();
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
    const quiet: Record<string, unknown> = { singles: await waitForQuiet(o.quietWaitMs) };
    const singles: number[] = [];
    for (let i = 0; i < o.singles; i++) {
      const id = seed.mailboxIds[i];
      await resetForRun(inst.db.prisma, [id]);
      const r = await runBatch(inst, [id], 5);
      if (r.succeeded !== 1) throw new Error('single mailbox test did not succeed');
      singles.push(r.wallMs);
    }
    const one = median(singles);
    log(`scale[${engine}]: one mailbox alone ${singles.map((x) => round(x)).join(', ')} ms (median ${round(one)})`);

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

    // Concurrency 1 on the same data, fewer mailboxes when N would take too long; extrapolated linearly.
    inst = await startInstance(engine, where, world, 1, env);
    const perMailbox = Math.max(one, 1000); // a lone worker polls once a second at most when idle
    const n1 = Math.min(o.n, Math.max(10, Math.floor((o.c1BudgetSeconds * 1000) / perMailbox)));
    const ids1 = seed.mailboxIds.slice(0, n1);
    await resetForRun(inst.db.prisma, ids1);
    quiet.concurrency1 = await waitForQuiet(o.quietWaitMs);
    const c1 = await runBatch(inst, ids1, 50);
    if (c1.succeeded !== n1) log(`scale[${engine}]: WARNING: only ${c1.succeeded} of ${n1} succeeded at C=1`);
    await inst.close();
    const c1Extrapolated = (c1.wallMs * o.n) / n1;
    log(
      `scale[${engine}]: C=1, ${n1} mailboxes: ${round(c1.wallMs)} ms → ${o.n} extrapolated ${round(c1Extrapolated / 1000, 1)} s`,
    );

    const ideal = Math.ceil(o.n / o.workers) * one;
    return {
      n: o.n,
      workers: o.workers,
      delayMs: o.delayMs,
      profiles: seed.profileIds.length,
      maxConcurrentConnections: 2 * o.workers,
      oneMailboxMs: round(one),
      oneMailboxRunsMs: singles.map((x) => round(x)),
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
        extrapolatedMs: round(c1Extrapolated),
        extrapolated: n1 < o.n,
      },
      ratio: round(all.wallMs / ideal, 2),
      ratioTarget: 1.3,
      speedup: round(c1Extrapolated / all.wallMs, 1),
      speedupTarget: 30,
      machineBeforeEachRun: quiet,
    };
  } finally {
    dir?.remove();
    await pgdb?.drop();
  }
}
