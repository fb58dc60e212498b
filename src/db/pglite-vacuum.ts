// What autovacuum does for PostgreSQL, for the embedded database (decision 043): PGlite runs PostgreSQL in single-user
// mode, which has no autovacuum, so dead tuples piled up, GIN (trigram) indexes' pending lists were never merged and
// the visibility map was never set (decision 039: the mailbox search and the profile list took twice as long).
import type { Database, RawSql } from './client.ts';
import type { Logger } from '../logger.ts';

/** A table's counters as pg_stat_user_tables keeps them (since this start: PGlite does not keep them across one). */
export interface TableStats {
  /** Schema-qualified, quoted: ready to put in a statement. */
  target: string;
  /** pg_class.reltuples; -1 (never vacuumed nor analyzed) read as 0, as autovacuum does. */
  reltuples: number;
  deadTuples: number;
  insertsSinceVacuum: number;
  modsSinceAnalyze: number;
  /** Vacuums since this start. */
  vacuumCount: number;
  /** The table's pages now, and those marked all-visible at its last VACUUM or ANALYZE (pg_class.relallvisible). */
  pages: number;
  allVisiblePages: number;
}

export type Maintenance = 'vacuum' | 'analyze' | undefined;

/** Pages not known all-visible past which a table not yet vacuumed since this start is vacuumed (the fallback). */
export const MIN_UNSET_PAGES = 16;

/**
 * autovacuum's default thresholds (autovacuum_vacuum_threshold 50 + scale factor 0.2, insert threshold 1000 + 0.2,
 * analyze 50 + 0.1). The counters start at zero with every start of PGlite, so a table written before it would wait
 * for new writes: until it has been vacuumed once in this run, a table is also vacuumed when more than a fifth of its
 * pages (and at least MIN_UNSET_PAGES) are not marked all-visible — rows inserted or changed since its last VACUUM.
 */
export function maintenanceFor(t: TableStats): Maintenance {
  const n = Math.max(0, t.reltuples);
  if (t.deadTuples > 50 + 0.2 * n) return 'vacuum';
  if (t.insertsSinceVacuum > 1000 + 0.2 * n) return 'vacuum';
  const unset = t.pages - Math.min(t.allVisiblePages, t.pages);
  if (t.vacuumCount === 0 && unset >= MIN_UNSET_PAGES && unset > 0.2 * t.pages) return 'vacuum';
  if (t.modsSinceAnalyze > 50 + 0.1 * n) return 'analyze';
  return undefined;
}

const STATS = `
  SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS target, c.reltuples::float8 AS reltuples,
         s.n_dead_tup::int8 AS dead, s.n_ins_since_vacuum::int8 AS inserts, s.n_mod_since_analyze::int8 AS mods,
         s.vacuum_count::int8 AS vacuums, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int8 AS pages,
         c.relallvisible AS visible
  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
  WHERE c.relkind IN ('r', 'm', 't')
  ORDER BY s.schemaname, s.relname`;

interface StatsRow {
  target: string;
  reltuples: number | string;
  dead: number | string;
  inserts: number | string;
  mods: number | string;
  vacuums: number | string;
  pages: number | string;
  visible: number | string;
}

export async function readTableStats(raw: RawSql): Promise<TableStats[]> {
  // The backend publishes its counters at most once a second; this makes the next statement publish them.
  await raw.query('SELECT pg_stat_force_next_flush()');
  const rows = await raw.query<StatsRow>(STATS);
  return rows.map((r) => ({
    target: r.target,
    reltuples: Number(r.reltuples),
    deadTuples: Number(r.dead),
    insertsSinceVacuum: Number(r.inserts),
    modsSinceAnalyze: Number(r.mods),
    vacuumCount: Number(r.vacuums),
    pages: Number(r.pages),
    allVisiblePages: Number(r.visible),
  }));
}

export interface PassResult {
  vacuumed: string[];
  analyzed: string[];
  failed: string[];
}

/**
 * One pass: each table past a threshold vacuumed (or analyzed) on its own statement, so a page waits at most for one
 * table. `stopped` is asked before each table. A failure is logged and the pass goes on with the next table.
 */
export async function maintenancePass(
  raw: RawSql,
  logger: Logger,
  stopped: () => boolean = () => false,
): Promise<PassResult> {
  const result: PassResult = { vacuumed: [], analyzed: [], failed: [] };
  for (const t of await readTableStats(raw)) {
    const what = maintenanceFor(t);
    if (!what) continue;
    if (stopped()) break;
    const started = performance.now();
    try {
      // On the database's one connection, outside any transaction: PGlite runs it after the open one ends.
      await raw.exec(`${what === 'vacuum' ? 'VACUUM (ANALYZE)' : 'ANALYZE'} ${t.target}`);
      (what === 'vacuum' ? result.vacuumed : result.analyzed).push(t.target);
      const ms = Math.round(performance.now() - started);
      logger.info(
        { table: t.target, ms },
        what === 'vacuum' ? 'embedded database: table vacuumed' : 'embedded database: table analyzed',
      );
    } catch (err) {
      result.failed.push(t.target);
      logger.error({ table: t.target, err: { message: (err as Error).message } }, `embedded database: ${what} failed`);
    }
  }
  return result;
}

export interface MaintenanceLoop {
  /** Runs a pass now (after the running one): tests. */
  runNow(): Promise<PassResult | undefined>;
  /** No pass starts after this; resolves once the running statement (a VACUUM) has finished. */
  stop(): Promise<void>;
}

/** After the start (migrations done, pages served): the first pass. */
export const FIRST_PASS_MS = 10_000;

/**
 * The embedded database's maintenance, every `intervalMs` (PGLITE_VACUUM_SECONDS) in the process that owns it.
 * PostgreSQL (its autovacuum does this) and `intervalMs` 0: none.
 */
export function startMaintenance(
  db: Pick<Database, 'kind' | 'raw'>,
  logger: Logger,
  intervalMs: number,
  firstMs = FIRST_PASS_MS,
): MaintenanceLoop | undefined {
  if (db.kind !== 'pglite' || intervalMs <= 0) return undefined;
  let stopped = false;
  let running: Promise<PassResult | undefined> = Promise.resolve(undefined);
  let timer: NodeJS.Timeout | undefined;
  const pass = (): Promise<PassResult | undefined> => {
    running = running.then(() =>
      stopped
        ? undefined
        : maintenancePass(db.raw, logger, () => stopped).catch((err: Error) => {
            logger.error({ err: { message: err.message } }, 'embedded database: maintenance pass failed');
            return undefined;
          }),
    );
    return running;
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => void pass().then(() => schedule(intervalMs)), ms);
    timer.unref(); // never what keeps a process alive
  };
  schedule(firstMs);
  return {
    runNow: pass,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
