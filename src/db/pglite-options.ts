// How the embedded database is opened, shared by the thread that runs it (pglite-thread.ts) and in-process use.
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { DurableNodeFS, durableStartParams } from './pglite-durable-fs.ts';

/** Extensions the migrations create (pg_trgm: substring search in the Emails list); PGlite must load them itself. */
export const PGLITE_EXTENSIONS = { pg_trgm };

/**
 * PostgreSQL's default shared_buffers (128MB) is all touched at start-up inside PGlite's WASM memory and stays
 * resident (~125 MB of idle RSS); the embedded database is small and the OS caches its files (bench/README.md).
 */
export const PGLITE_SHARED_BUFFERS = '16MB';

/** What can cross to the database thread: plain data only (a dump travels as its bytes). */
export interface PGliteOpenOptions {
  /** A directory on disk; omitted: in memory. */
  dataDir?: string;
  /** An uncompressed or gzipped tar from dumpDataDir(), loaded into a new in-memory database. */
  loadDataDir?: ArrayBuffer;
  /** Apply PGLITE_SHARED_BUFFERS (the app does; test databases keep PGlite's defaults). */
  smallSharedBuffers?: boolean;
  /** Named prepared statements instead of PGlite's query() (decision 039: opt-in, for measurements). */
  prepared?: boolean;
}

export function pgliteOptions(opts: PGliteOpenOptions): PGliteOptions<typeof PGLITE_EXTENSIONS> {
  // On disk the database is durable: fsync on, and an fsync that reaches the disk (decision 042). In memory (tests,
  // a loaded dump) there is no disk to sync, and PGlite's defaults (-F) stay.
  const base = opts.dataDir ? durableStartParams() : PGlite.defaultStartParams;
  const startParams = opts.smallSharedBuffers ? [...base, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`] : base;
  return {
    ...(opts.dataDir ? { dataDir: opts.dataDir, fs: new DurableNodeFS(opts.dataDir) } : {}),
    ...(opts.loadDataDir ? { loadDataDir: new Blob([opts.loadDataDir]) } : {}),
    extensions: PGLITE_EXTENSIONS,
    startParams,
  };
}
