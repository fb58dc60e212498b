// A running app on a clean database for HTTP tests: real server on 127.0.0.1, captured logs, user factories. With
// `jobs`, the job queue and its workers run in the same process (role all), as `npm start` does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { describe, before, after } from 'node:test';
import { createApp } from '../../src/app.ts';
import { buildDeps, type DepsOptions } from '../../src/compose.ts';
import type { AppDeps } from '../../src/deps.ts';
import { startWorkers, type Workers } from '../../src/workers.ts';
import type { SyncSettings } from '../../src/sync/settings.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createSealer } from '../../src/security/secrets.ts';
import type { Jobs } from '../../src/jobs/boss.ts';
import { createUser, type PublicUser } from '../../src/auth/users.ts';
import { createTestDb, dbModes, type DbMode, type TestDb } from './db.ts';
import { TestClient } from './client.ts';

export interface TestContext {
  mode: DbMode;
  testDb: TestDb;
  db: TestDb['db'];
  config: Config;
  url: string;
  server: Server;
  jobs?: Jobs;
  deps: AppDeps;
  workers?: Workers;
  app: ReturnType<typeof createApp>;
  logs: string[];
  sealer: ReturnType<typeof createSealer>;
  client(headers?: Record<string, string>): TestClient;
  user(
    o?: Partial<{ email: string; name: string; role: 'ADMIN' | 'USER'; password: string }>,
  ): Promise<PublicUser & { password: string }>;
  /** A signed-in client for a new user of the given role. */
  signedIn(role?: 'ADMIN' | 'USER'): Promise<{ client: TestClient; user: PublicUser & { password: string } }>;
  close(): Promise<void>;
}

export interface ContextOptions {
  /** Start the job queue and its workers (Test & Enable, the session sweeper) in this process. */
  jobs?: boolean;
  /** With jobs: also run incoming synchronization, with these timer overrides (off unless given). */
  sync?: Partial<SyncSettings>;
  env?: Record<string, string>;
  /** Dependency overrides: mail TLS CA, Test & Enable tuning, login limits, a Google client. */
  app?: Partial<Omit<DepsOptions, 'config' | 'db' | 'logger' | 'jobs'>>;
}

export const TEST_PASSWORD = 'correct horse battery';

export async function createTestContext(mode: DbMode, opts: ContextOptions = {}): Promise<TestContext> {
  const testDb = await createTestDb(mode);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger('debug', sink as never);
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    SECRETS_KEY: randomBytes(32).toString('base64'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    DATA_DIR: '/nonexistent',
    LOG_LEVEL: 'debug',
    PUBLIC_URL: 'http://127.0.0.1:1',
    ...opts.env,
  });
  const sealer = createSealer(config.secretsKeys.current);
  const server = createServer();
  // The server keeps idle connections far longer than the test client (undici: 4 s), so a client that reuses a
  // socket late under load never races the server's close ("fetch failed" seen at load 30).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (!opts.env?.PUBLIC_URL) config.publicUrl = url;
  const deps = buildDeps({
    config,
    db: testDb.db,
    logger,
    sealer,
    jobs: !!opts.jobs,
    limits: { login: { perIp: 1000, perAccount: 1000 } },
    ...opts.app,
  });
  const { jobs } = deps;
  const app = createApp(deps);
  server.on('request', app);
  const workers: Workers | undefined = jobs
    ? await startWorkers(deps, { schedules: false, sync: opts.sync ?? false })
    : undefined;
  let n = 0;
  const ctx: TestContext = {
    mode,
    testDb,
    db: testDb.db,
    config,
    url,
    server,
    jobs,
    deps,
    workers,
    app,
    logs,
    sealer,
    client: (headers) => new TestClient(url, headers),
    user: async (o = {}) => {
      const password = o.password ?? TEST_PASSWORD;
      const u = await createUser(testDb.db.prisma, {
        email: o.email ?? `user${++n}-${randomBytes(3).toString('hex')}@example.com`,
        name: o.name ?? `User ${n}`,
        role: o.role ?? 'USER',
        password,
      });
      return { ...u, password };
    },
    signedIn: async (role = 'USER') => {
      const user = await ctx.user({ role });
      const client = ctx.client();
      await client.login(user.email, user.password);
      return { client, user };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await jobs?.stop();
      await ctx.workers?.stop();
      await testDb.drop();
    },
  };
  return ctx;
}

/**
 * Runs a suite once per database mode (PGlite and PostgreSQL; TEST_DB=pglite|postgres picks one),
 * each with its own fresh context. Use get() inside tests.
 */
export function describeEachDb(name: string, fn: (get: () => TestContext) => void, opts: ContextOptions = {}): void {
  for (const mode of dbModes()) {
    describe(`${name} [${mode}]`, () => {
      let ctx: TestContext;
      before(async () => {
        ctx = await createTestContext(mode, opts);
      });
      after(async () => {
        await ctx?.close();
      });
      fn(() => ctx);
    });
  }
}
