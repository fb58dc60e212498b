// Opening the app's embedded database, kept free of Prisma and the app so a process can start it first: npm start
// takes the data-dir lock and starts the database thread before loading the app's modules, so PGlite compiles,
// loads and opens its data directory on the second core while the main thread loads the app (decision 029).
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { lockDataDir } from './lock.ts';
import { PGliteRemote } from './pglite-remote.ts';
import { seedFromTemplate } from './pglite-template.ts';

/** A crash of the database thread: the process cannot go on without its database, so it says why and exits. */
function databaseThreadCrashed(err: Error): void {
  process.stderr.write(`mailroom: ${err.message}. Exiting; the data directory is left as the last commit wrote it.\n`);
  process.exit(70); // EX_SOFTWARE; a supervisor restarts it, and the restart recovers like any other crash
}

/**
 * Starts opening DATA_DIR's embedded database in its thread and returns without waiting: calls made meanwhile run
 * once it is open (decision 041). A new data directory starts as a copy of the template.
 */
export function startPglite(dataDir: string): PGliteRemote {
  const dir = join(dataDir, 'pglite');
  seedFromTemplate(dir); // a new data directory: a copy of the install-time template instead of initdb
  const pglite = PGliteRemote.start({
    dataDir: dir,
    smallSharedBuffers: true,
    // PGLITE_PREPARED=on: named prepared statements (decision 039: measured, not faster in the app; off by default).
    prepared: process.env.PGLITE_PREPARED === 'on',
  });
  pglite.onCrash = databaseThreadCrashed;
  return pglite;
}

/** Opens DATA_DIR's embedded database in its thread (the command-line tools); rejects when it cannot be opened. */
export async function openPglite(dataDir: string): Promise<PGliteRemote> {
  const pglite = startPglite(dataDir);
  await pglite.waitReady;
  return pglite;
}

/** The data-dir lock, and the embedded database already opening (PostgreSQL: neither). */
export interface StartingDatabase {
  release: () => void;
  pglite?: PGliteRemote;
}

/** Takes the data-dir lock (throws DataDirLockedError) and starts opening the embedded database without waiting. */
export function startOpening(config: Pick<Config, 'dataDir' | 'databaseUrl'>): StartingDatabase {
  if (config.databaseUrl) return { release: () => undefined };
  const release = lockDataDir(config.dataDir);
  try {
    return { release, pglite: startPglite(config.dataDir) };
  } catch (e) {
    release(); // the template could not be copied: nothing is open
    throw e;
  }
}
