// The diagnostic scripts' shared start: the database of a config (data dir created for PGlite), migrated, with the
// pages seed (10,000 mailboxes on 50 profiles, bench/seed.ts). The caller closes the database.
import { mkdirSync } from 'node:fs';
import type { Config } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createSealer } from '../../src/security/secrets.ts';
import { seedPages } from '../seed.ts';

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
