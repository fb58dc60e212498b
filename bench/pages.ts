// Pages under load: 10,000 mailboxes and 50 profiles seeded, the real server process, autocannon as a signed-in admin.
import autocannon from 'autocannon';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { loadConfig } from '../src/config.ts';
import { createSealer } from '../src/security/secrets.ts';
import { seedEmails, seedPages } from './seed.ts';
import { spawnServer, memoryOf } from './start.ts';
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

export interface PagesOptions {
  engines: Engine[];
  mailboxes: number;
  profiles: number;
  /** Emails seeded over the mailboxes, for the Emails list. */
  emails: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds?: number;
  quietWaitMs: number;
}

/** Signs in through the real form: GET /login for the CSRF token and cookie, POST /login, keep the new session cookie. */
export async function signIn(base: string, email: string, password: string): Promise<string> {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const page = await fetch(`${base}/login`);
  keep(page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on the login page');
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
    body: new URLSearchParams({ email, password, _csrf: csrf }).toString(),
  });
  await res.arrayBuffer();
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  keep(res);
  return cookie();
}

interface Target {
  name: string;
  path: string | ((i: number) => string);
}

export async function cannon(base: string, cookie: string, t: Target, connections: number, seconds: number) {
  let i = 0;
  const pathAt = typeof t.path === 'string' ? () => t.path as string : () => (t.path as (i: number) => string)(i++);
  const r = await autocannon({
    url: base,
    connections,
    duration: seconds,
    headers: { cookie },
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: pathAt() }) }],
  });
  return {
    reqPerSec: round(r.requests.average),
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    kBPerReq: r.requests.total ? round(r.throughput.total / r.requests.total / 1024, 1) : 0,
  };
}

/**
 * The same database with synchronization on (what `npm start` does by default): the server's CPU at rest once started
 * (no requests), then the mailbox list under load. Its own rows, so the page figures above are not the sync engine's.
 */
async function measureSyncOn(
  env: Record<string, string>,
  seed: { adminEmail: string; password: string },
  o: PagesOptions,
  syncCandidates: number,
) {
  const settleSeconds = 10;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  try {
    server = await spawnServer({ ...env, SYNC: 'on' }, { npmStart: true, timeoutMs: 120_000 });
  } catch (e) {
    // A finding, not a bench failure: the page rows above stand; this row says the server did not come up.
    log(`pages: with SYNC=on ${(e as Error).message.split('\n')[0]}`);
    return { syncCandidates, settleSeconds, error: 'the server did not answer GET /login within 120 s of npm start' };
  }
  try {
    const cookie = await signIn(server.url, seed.adminEmail, seed.password);
    await sleep(settleSeconds * 1000); // start-up work over; the sync engine has begun with the enabled mailboxes
    const quiet = await waitForQuiet(o.quietWaitMs);
    const c0 = procCpuSeconds(server.serverPid);
    const t0 = now();
    await sleep(o.durationSeconds * 1000);
    const idleCpuShare = round((procCpuSeconds(server.serverPid) - c0) / ((now() - t0) / 1000), 3);
    const s0 = procCpuSeconds(server.serverPid);
    const list = await cannon(
      server.url,
      cookie,
      { name: 'mailboxList', path: '/mailboxes' },
      o.connections,
      o.durationSeconds,
    );
    const s1 = procCpuSeconds(server.serverPid);
    return {
      syncCandidates,
      settleSeconds,
      idleCpuShare,
      list: { ...list, cpuMsPerRequest: list.requests ? round(((s1 - s0) * 1000) / list.requests, 2) : 0 },
      machineBusyBefore: quiet.busy,
      flagged: quiet.flagged,
    };
  } finally {
    await server.stop();
  }
}

export async function benchPages(o: PagesOptions) {
  const out: Record<string, unknown> = {};
  for (const engine of o.engines) {
    const dir = engine === 'pglite' ? tempDir('pages') : undefined;
    const pgdb = engine === 'postgres' ? await benchPostgres('pages') : undefined;
    // The page figures: SYNC=off, so the server's CPU is the pages' (the seeded mailboxes that are enabled for
    // synchronization point at servers that do not exist; with sync on the server spends its time retrying them).
    // The same server with sync on (npm start's default) is measured after, as its own rows.
    const env = baseEnv({ ...(dir ? { DATA_DIR: join(dir.path, 'data') } : { DATABASE_URL: pgdb!.url }), SYNC: 'off' });
    try {
      // Seed with the app's own database code, then hand the database to the server process.
      const t0 = now();
      const config = loadConfig(env);
      if (dir) mkdirSync(config.dataDir, { recursive: true });
      const db = await openDatabase(config);
      await migrate(db);
      const seed = await seedPages(db.raw, db.prisma, createSealer(config.secretsKeys.current), {
        mailboxes: o.mailboxes,
        profiles: o.profiles,
        vacuum: true, // both engines: PostgreSQL's autovacuum, and the app's loop on PGlite (decision 043)
      });
      const [{ n: syncCandidates }] = await db.raw.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "Mailbox" WHERE "enabledForIncoming" AND "incomingEmail" = 'SERVER_SIDE_SYNC'`,
      );
      if (o.emails) await seedEmails(db.raw, { emails: o.emails, mailboxes: o.mailboxes, vacuum: true });
      await db.close();
      const seedMs = now() - t0;
      log(
        `pages[${engine}]: seeded ${o.mailboxes} mailboxes, ${o.profiles} profiles, ${o.emails} emails in ${round(seedMs)} ms`,
      );

      const server = await spawnServer(env, { npmStart: true }); // what a user runs: the compiled server
      try {
        const cookie = await signIn(server.url, seed.adminEmail, seed.password);
        const targets: Target[] = [
          { name: 'healthz', path: '/healthz' },
          { name: 'mailboxList', path: '/mailboxes' },
          { name: 'mailboxSearch', path: '/mailboxes?q=mb12' },
          { name: 'mailboxPage150', path: '/mailboxes?page=150' },
          { name: 'mailboxByStatus', path: '/mailboxes?sort=incoming&dir=asc' },
          { name: 'mailboxRecord', path: (i) => `/mailboxes/${seed.mailboxIds[i % seed.mailboxIds.length]}` },
          { name: 'profileList', path: '/profiles' },
          ...(o.emails
            ? [
                { name: 'emailList', path: '/emails' },
                { name: 'emailSearch', path: '/emails?q=delivery' },
              ]
            : []),
        ];
        for (const t of targets) {
          // each page answers 200 for this admin, with content
          const p = typeof t.path === 'string' ? t.path : t.path(0);
          const res = await fetch(server.url + p, { headers: { cookie }, redirect: 'manual' });
          const body = await res.text();
          if (res.status !== 200) throw new Error(`${p} answered ${res.status}`);
          if (t.name.startsWith('mailbox') && t.name !== 'mailboxRecord' && !body.includes('Mailbox '))
            throw new Error(`${p} shows no mailboxes`);
        }
        const results: Record<
          string,
          Awaited<ReturnType<typeof cannon>> & {
            cpuMsPerRequest: number;
            cpu: Record<string, number>;
            oneConnection: Record<string, number>;
            machineBusyBefore: number;
            flagged: boolean;
          }
        > = {};
        for (const t of targets) {
          const quiet = await waitForQuiet(o.quietWaitMs);
          await cannon(server.url, cookie, t, o.connections, o.warmupSeconds ?? 2); // JIT, caches, connection pools
          const m0 = machineCpuSeconds();
          const s0 = procCpuSeconds(server.serverPid);
          const b0 = process.cpuUsage();
          const loaded = await cannon(server.url, cookie, t, o.connections, o.durationSeconds);
          const m1 = machineCpuSeconds();
          const s1 = procCpuSeconds(server.serverPid);
          const b1 = process.cpuUsage(b0);
          const cores = (m1.total - m0.total) / o.durationSeconds; // elapsed core-seconds per second = number of cores
          // Cores busy during the run: the server, this process (autocannon), everything else on the machine.
          const cpu = {
            server: round((s1 - s0) / o.durationSeconds, 2),
            autocannon: round((b1.user + b1.system) / 1e6 / o.durationSeconds, 2),
            machine: round((m1.busy - m0.busy) / o.durationSeconds, 2),
            cores: Math.round(cores),
          };
          const alone = await cannon(server.url, cookie, t, 1, 3); // one connection: the service time of one request
          results[t.name] = {
            ...loaded,
            // The server's CPU per request (user + system), the figure issue 15's goal 1 is stated in.
            cpuMsPerRequest: loaded.requests ? round(((s1 - s0) * 1000) / loaded.requests, 2) : 0,
            cpu,
            oneConnection: { reqPerSec: alone.reqPerSec, p50Ms: alone.p50Ms, p99Ms: alone.p99Ms },
            machineBusyBefore: quiet.busy,
            flagged: quiet.flagged,
          };
          const r = results[t.name];
          log(
            `pages[${engine}]: ${t.name.padEnd(15)} ${String(r.cpuMsPerRequest).padStart(6)} ms CPU ${String(r.reqPerSec).padStart(7)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  non-2xx ${r.non2xx}  errors ${r.errors}  cores: server ${r.cpu.server} autocannon ${r.cpu.autocannon} machine ${r.cpu.machine} | 1 connection: ${r.oneConnection.reqPerSec} req/s p50 ${r.oneConnection.p50Ms} ms`,
          );
        }
        const mem = memoryOf(server.serverPid);
        await server.stop();
        const syncOn = await measureSyncOn(env, seed, o, syncCandidates);
        log(
          `pages[${engine}]: SYNC=on, ${syncCandidates} mailboxes enabled for sync: ${'error' in syncOn ? syncOn.error : `idle server CPU ${round(syncOn.idleCpuShare * 100, 1)} % of a core; list ${syncOn.list.reqPerSec} req/s p50 ${syncOn.list.p50Ms} ms p99 ${syncOn.list.p99Ms} ms`}`,
        );
        out[engine] = {
          seedMs: round(seedMs),
          sync: 'off',
          syncOn,
          ...results,
          listOverHealthz: round(results.mailboxList.reqPerSec / results.healthz.reqPerSec, 2),
          listOverHealthzTarget: 0.1,
          p99TargetMs: 100,
          cpuMsTarget: engine === 'pglite' ? 6 : 3.5,
          serverRssAfterMB: mem.VmRSS,
          serverPeakRssMB: mem.VmHWM,
        };
      } finally {
        await server.stop();
      }
    } finally {
      dir?.remove();
      await pgdb?.drop();
    }
  }
  return { options: { ...o, sync: process.env.SYNC ?? 'on' }, ...out };
}
