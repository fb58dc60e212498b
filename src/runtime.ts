// Builds a running Mailroom for one role: config → data-dir lock → database → migrations → deps → HTTP (the app, or
// only /healthz for a worker) → workers (all, worker). server.ts, the sandbox and benchmarks share it; tests build
// deps and the app themselves (test/helpers/context.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/client.ts';
import { startOpening, type StartingDatabase } from './db/pglite-open.ts';
import { migrate, readMigrations } from './db/migrate.ts';
import { startMaintenance, type MaintenanceLoop } from './db/pglite-vacuum.ts';
import type { Jobs } from './jobs/boss.ts';
import { createLogger, type Logger } from './logger.ts';
import { buildDeps } from './compose.ts';
import { createApp } from './app.ts';
import { startWorkers, type Workers } from './workers.ts';
import { createHealthApp } from './web/health.ts';
import { countUsers } from './auth/users.ts';
import { issueSetupToken } from './auth/setup.ts';

export interface Runtime {
  config: Config;
  db: Database;
  jobs: Jobs;
  server: Server;
  logger: Logger;
  url: string;
  stop(): Promise<void>;
}

/** `beforeListen` runs on the migrated database before anything is served (the sandbox seeds its users there). */
export interface RuntimeHooks {
  beforeListen?: (db: Database) => Promise<void>;
}

export async function startRuntime(
  config: Config,
  logger = createLogger(config.logLevel),
  hooks: RuntimeHooks = {},
  starting: StartingDatabase = startOpening(config),
): Promise<Runtime> {
  const { release } = starting;
  const serves = config.role !== 'worker';
  const works = config.role !== 'web';
  let db: Database | undefined;
  let jobs: Jobs | undefined;
  let workers: Workers | undefined;
  let maintenance: MaintenanceLoop | undefined;
  try {
    for (const key of config.generatedKeys)
      logger.warn(
        `${key} was not set: generated one into ${config.dataDir}/keys.json (mode 0600). Back this file up; without it stored secrets cannot be read.`,
      );
    // PGlite: the Prisma client is built and the migration files read while the thread opens the database.
    const opening = openDatabase(config, starting.pglite);
    opening.catch(() => undefined); // a failed open is thrown below, even if reading the migrations throws first
    const migrations = readMigrations();
    db = await opening;
    const applied = await migrate(db, migrations);
    if (applied.length) logger.info({ applied }, 'database migrations applied');
    // The embedded database has no autovacuum (decision 043); this process owns it (the data-dir lock).
    maintenance = startMaintenance(db, logger, config.pgliteVacuumMs);
    await hooks.beforeListen?.(db);
    const deps = buildDeps({ config, db, logger }); // the job queue starts in the background: pages are served meanwhile
    jobs = deps.jobs!;
    const app = serves ? createApp(deps) : null;
    const server = createServer(app ?? createHealthApp(db));
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(config.port, config.host, () => res());
    });
    const url = `http://localhost:${(server.address() as AddressInfo).port}`;
    if (serves && (await countUsers(db.prisma)) === 0) {
      const token = await issueSetupToken(db.prisma, deps.sealer); // the same link from every process
      // Printed once, on purpose: it is how the first administrator gets in.
      process.stdout.write(
        `\nNo users yet. Create the first administrator at:\n  ${config.publicUrl}/setup?token=${token}\n\n`,
      );
    }
    await jobs.ready;
    if (works) workers = await startWorkers(deps);
    logger.info({ url, publicUrl: config.publicUrl, database: db.kind, role: config.role }, 'Mailroom is ready');
    process.stdout.write(`${readyLine(config, url)}\n`);
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        await new Promise<void>((res) => {
          server.close(() => res());
          server.closeAllConnections();
        });
        await jobs!.stop().catch((err) => logger.error({ err }, 'job queue did not stop cleanly'));
        // After the job queue: running tests finish as this process's before its heartbeat row goes.
        await workers?.stop().catch((err) => logger.error({ err }, 'workers did not stop cleanly'));
        await maintenance?.stop(); // a VACUUM running finishes first: none is left running when the database closes
        await db!.close();
        release();
      })());
    return { config, db, jobs, server, logger, url, stop };
  } catch (e) {
    await jobs?.stop().catch(() => undefined);
    await workers?.stop().catch(() => undefined);
    await maintenance?.stop();
    await db?.close().catch(() => undefined);
    release();
    throw e;
  }
}

/** The one line a newcomer looks for: where Mailroom is, and what this process does. */
export function readyLine(config: Pick<Config, 'publicUrl' | 'role' | 'databaseUrl'>, url: string): string {
  const database = config.databaseUrl ? 'PostgreSQL' : 'embedded database';
  if (config.role === 'worker')
    return `Mailroom is ready at ${config.publicUrl} (role: worker, runs the jobs; ${database}; health check ${url}/healthz)`;
  const does = config.role === 'web' ? 'serves the pages, queues the jobs' : 'serves the pages and runs the jobs';
  return `Mailroom is ready at ${config.publicUrl} (role: ${config.role}, ${does}; ${database})`;
}
