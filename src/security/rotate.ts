// Key rotation: re-seals every sealed value that is not sealed with the current key, column by column in batches.
// Safe while the app runs: each value is replaced only if it is still the value that was read (compare-and-set), so a
// token refreshed meanwhile is kept, never overwritten with the older token. Resumable: a run picks up whatever is not
// yet on the current key, so an interrupted run is finished by running it again (docs/decisions/017).
import type { RawSql } from '../db/client.ts';
import type { Sealer } from './secrets.ts';
import { SEALED_COLUMNS, type SealedColumn } from './sealed-columns.ts';

export interface ColumnReport {
  /** "Table.column" */
  field: string;
  /** Values re-sealed with the current key by this run. */
  resealed: number;
  /** Values another writer replaced between read and write (their write was kept; a later pass re-reads them). */
  changedMeanwhile: number;
  /** Values that no configured key opens (missing key, or tampered): left as they are. */
  unreadable: number;
  /** Values on the current key when the run ended. */
  current: number;
  /** Values not on the current key when the run ended (unreadable ones, or written by a process with an older key). */
  remaining: number;
}

export interface RotateOptions {
  batchSize?: number;
  /** Stops between values (Ctrl-C); the report says what was done, and a new run continues. */
  signal?: AbortSignal;
  onBatch?: (field: string, report: ColumnReport) => void;
  /** A seam for tests: runs after a batch is read and before it is written (a concurrent writer acts here). */
  afterRead?: (field: string, rows: { key: string; value: string }[]) => Promise<void>;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Passes over a column at most; a value changed meanwhile by an old-key writer is picked up by the next pass. */
const MAX_PASSES = 3;

export async function rotateSecrets(sql: RawSql, sealer: Sealer, o: RotateOptions = {}): Promise<ColumnReport[]> {
  const reports: ColumnReport[] = [];
  for (const col of Object.values(SEALED_COLUMNS)) {
    reports.push(await rotateColumn(sql, sealer, col, o));
    if (o.signal?.aborted) break;
  }
  return reports;
}

async function rotateColumn(sql: RawSql, sealer: Sealer, c: SealedColumn, o: RotateOptions): Promise<ColumnReport> {
  const field = `${c.table}.${c.column}`;
  const prefix = `v1.${sealer.keyId}.`;
  const report: ColumnReport = { field, resealed: 0, changedMeanwhile: 0, unreadable: 0, current: 0, remaining: 0 };
  const extra = c.where ? ` AND (${c.where})` : '';
  const batchSize = o.batchSize ?? 100;
  const unreadable = new Set<string>();
  for (let pass = 0; pass < MAX_PASSES && !o.signal?.aborted; pass++) {
    let cursor = '';
    let changed = 0;
    for (;;) {
      const rows = await sql.query<{ key: string; value: string }>(
        `SELECT ${q(c.key)} AS key, ${q(c.column)} AS value FROM ${q(c.table)}
          WHERE ${q(c.column)} IS NOT NULL AND NOT starts_with(${q(c.column)}, $1) AND ${q(c.key)} COLLATE "C" > $2${extra}
          ORDER BY ${q(c.key)} COLLATE "C" LIMIT $3`,
        [prefix, cursor, batchSize],
      );
      if (!rows.length) break;
      await o.afterRead?.(field, rows);
      for (const row of rows) {
        if (o.signal?.aborted) break;
        let plaintext: string;
        try {
          plaintext = sealer.open(row.value, c.context);
        } catch {
          unreadable.add(row.key);
          continue;
        }
        const written = await sql.query<{ n: number }>(
          `WITH w AS (UPDATE ${q(c.table)} SET ${q(c.column)} = $1 WHERE ${q(c.key)} = $2 AND ${q(c.column)} = $3
             RETURNING 1) SELECT count(*)::int AS n FROM w`,
          [sealer.seal(plaintext, c.context), row.key, row.value],
        );
        if (Number(written[0].n) === 1) report.resealed++;
        else changed++;
      }
      cursor = rows[rows.length - 1].key;
      report.unreadable = unreadable.size;
      o.onBatch?.(field, report);
      if (o.signal?.aborted || rows.length < batchSize) break;
    }
    report.changedMeanwhile += changed;
    if (changed === 0) break;
  }
  const [counts] = await sql.query<{ current: number; other: number }>(
    `SELECT count(*) FILTER (WHERE starts_with(${q(c.column)}, $1))::int AS current,
            count(*) FILTER (WHERE NOT starts_with(${q(c.column)}, $1))::int AS other
       FROM ${q(c.table)} WHERE ${q(c.column)} IS NOT NULL${extra}`,
    [prefix],
  );
  report.current = Number(counts.current);
  report.remaining = Number(counts.other);
  report.unreadable = unreadable.size;
  return report;
}
