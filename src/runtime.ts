// Builds a running Mailroom: config → data-dir lock → database → migrations → jobs → app.
// server.ts, the sandbox and benchmarks share it; tests use createApp with their own database.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/client.ts';
import { lockDataDir } from './db/lock.ts';
import { migrate } from './db/migrate.ts';
import { createJobs, type Jobs } from './jobs/boss.ts';
import { createLogger, type Logger } from './logger.ts';
import { createSealer } from './security/secrets.ts';
import { createApp } from './app.ts';
import { countUsers } from './auth/users.ts';
import { issueSetupToken } from './auth/setup.ts';

export interface Runtime { config: Config; db: Database; jobs: Jobs; server: Server; logger: Logger; url: string; stop(): Promise<void> }

/** `beforeListen` runs on the migrated database before anything is served (the sandbox seeds its users there). */
export interface RuntimeHooks { beforeListen?: (db: Database) => Promise<void> }

export async function startRuntime(config: Config, logger = createLogger(config.logLevel), hooks: RuntimeHooks = {}): Promise<Runtime> {
  const release = config.databaseUrl ? () => undefined : lockDataDir(config.dataDir);
  let db: Database | undefined;
  try {
    for (const key of config.generatedKeys) logger.warn(`${key} was not set: generated one into ${config.dataDir}/keys.json (mode 0600). Back this file up; without it stored secrets cannot be read.`);
    db = await openDatabase(config);
    const applied = await migrate(db);
    if (applied.length) logger.info({ applied }, 'database migrations applied');
    await hooks.beforeListen?.(db);
    const jobs = createJobs(db, logger); // starts in the background: pages are served meanwhile
    const app = createApp({ config, db, logger, jobs, sealer: createSealer(config.secretsKeys.current, config.secretsKeys.old), mailTlsCa: config.mailTlsCa });
    const server = createServer(app);
    await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(config.port, config.host, () => res()); });
    const port = (server.address() as AddressInfo).port;
    const url = `http://localhost:${port}`;
    logger.info({ url, publicUrl: config.publicUrl, database: db.kind }, 'Mailroom is listening');
    if ((await countUsers(db.prisma)) === 0) {
      const token = await issueSetupToken(db.prisma);
      // Printed once, on purpose: it is how the first administrator gets in.
      process.stdout.write(`\nNo users yet. Create the first administrator at:\n  ${config.publicUrl}/setup?token=${token}\n\n`);
    }
    await jobs.ready;
    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= (async () => {
      await new Promise<void>((res) => { server.close(() => res()); server.closeAllConnections(); });
      app.locals.close();
      await jobs.stop().catch((err) => logger.error({ err }, 'job queue did not stop cleanly'));
      await db!.close();
      release();
    })());
    return { config, db, jobs, server, logger, url, stop };
  } catch (e) {
    await db?.close().catch(() => undefined);
    release();
    throw e;
  }
}
