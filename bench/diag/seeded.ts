// The diagnostic scripts' shared start: the database of a config (data dir created for PGlite), migrated, with the
// pages seed (10,000 mailboxes on 50 profiles, bench/seed.ts), or a new empty one of an engine. The caller closes it.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { loadConfig, type Config } from '../../src/config.ts';
import { createApp } from '../../src/app.ts';
import { buildDeps } from '../../src/compose.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { createLogger } from '../../src/logger.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSealer } from '../../src/security/secrets.ts';
import { signIn } from '../pages.ts';
import { seedPages, seedScale } from '../seed.ts';
import type { RemoteWorld } from '../world.ts';
import { baseEnv, benchPostgres, tempDir } from '../util.ts';

export async function openSeededPages(config: Config) {
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const db = await openDatabase(config);
  await migrate(db);
  const seed = await seedPages(db.raw, db.prisma, createSealer(config.secretsKeys.current), {
    mailboxes: 10000,
    profiles: 50,
    vacuum: db.kind === 'postgres',
  });
  return { db, seed };
}

/**
 * The app (no job queue) on a loopback port over `db`, and the seed's administrator signed in: its base URL and
 * session cookie. The caller closes `server`.
 */
export async function serveSignedIn(
  config: Config,
  db: Database,
  admin: { adminEmail: string; password: string },
): Promise<{ server: Server; base: string; cookie: string }> {
  const app = createApp(
    buildDeps({
      config,
      db,
      logger: createLogger('warn'),
      sealer: createSealer(config.secretsKeys.current),
      jobs: false,
    }),
  );
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { server, base, cookie: await signIn(base, admin.adminEmail, admin.password) };
}

/**
 * A new, migrated database of one engine (PGlite in a temporary data dir, or a new PostgreSQL database), its config,
 * and `close()`, which closes it and removes the directory or drops the database.
 */
export async function openFreshDatabase(engine: 'pglite' | 'postgres', tag: string) {
  const dir = engine === 'pglite' ? tempDir(tag) : undefined;
  const pgdb = engine === 'postgres' ? await benchPostgres(tag) : undefined;
  const config = loadConfig({
    ...baseEnv(),
    DATA_DIR: dir?.path ?? '/nonexistent',
    ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
  });
  const db = await openDatabase(config);
  const close = async () => {
    await db.close();
    dir?.remove();
    await pgdb?.drop();
  };
  await migrate(db).catch(async (e) => {
    await close();
    throw e;
  });
  return { db, config, close };
}

/**
 * The scale bench's seed (bench/seed.ts) of `n` mailboxes without a Gmail world: every grant holds the same stub
 * tokens, for diagnostics that run the job's statements and never talk to Google or the mail servers.
 */
export function seedScaleWithoutWorld(prisma: Database['prisma'], sealer: ReturnType<typeof createSealer>, n: number) {
  const stubWorld = {
    imapPort: 1,
    smtpStarttlsPort: 2,
    clientId: 'id',
    clientSecret: 'secret',
    addAccounts: async (emails: string[]) =>
      emails.map(() => ({ access_token: 'a', refresh_token: 'r', expires_in: 3600 })),
  } as unknown as RemoteWorld;
  return seedScale(prisma, sealer, stubWorld, { n, maxConcurrentConnections: 100 });
}
