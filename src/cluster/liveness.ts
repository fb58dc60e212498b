// Who is alive on this database: the queries every cluster part shares (a heartbeat fresher than deadAfter).
import type { RawSql } from '../db/client.ts';
import { DEFAULT_TIMING, deadAfterSeconds, type ClusterTiming } from './timing.ts';

export type ProcessRole = 'all' | 'web' | 'worker';
/** Roles that synchronize mailboxes (and so share them out). */
export const SYNC_ROLES: readonly ProcessRole[] = ['all', 'worker'];

export interface LiveProcess {
  id: string;
  host: string;
  pid: number;
  role: ProcessRole;
  startedAt: Date;
  heartbeatAt: Date;
  stopping: boolean;
}

/** SQL: the process row aliased `w` is alive (its heartbeat is fresh). `$n` is the dead-after bound in seconds. */
export const aliveSql = (alias: string, param: string) =>
  `${alias}."heartbeatAt" >= now() - make_interval(secs => ${param}::float8)`;

/** Whether a process (e.g. the one that ran a Test & Enable job) is still alive. Unknown ids are dead. */
export async function isAlive(
  sql: RawSql,
  processId: string,
  timing: ClusterTiming = DEFAULT_TIMING,
): Promise<boolean> {
  const rows = await sql.query(`SELECT 1 FROM "WorkerProcess" w WHERE w.id = $1 AND ${aliveSql('w', '$2')}`, [
    processId,
    deadAfterSeconds(timing),
  ]);
  return rows.length > 0;
}

export async function liveProcesses(sql: RawSql, timing: ClusterTiming = DEFAULT_TIMING): Promise<LiveProcess[]> {
  const rows = await sql.query<LiveProcess & { stoppingAt: Date | null }>(
    `SELECT id, host, pid, role, "startedAt", "heartbeatAt", "stoppingAt" FROM "WorkerProcess" w WHERE ${aliveSql('w', '$1')} ORDER BY "startedAt"`,
    [deadAfterSeconds(timing)],
  );
  return rows.map(({ stoppingAt, ...r }) => ({ ...r, pid: Number(r.pid), stopping: stoppingAt !== null }));
}

/**
 * Deletes the rows of dead processes. Their connection slots go with them (cascade) and their mailboxes become
 * unowned (set null). Claims do not wait for this: they treat a stale owner as no owner.
 */
export async function reapDead(sql: RawSql, timing: ClusterTiming = DEFAULT_TIMING): Promise<number> {
  const rows = await sql.query(`DELETE FROM "WorkerProcess" w WHERE NOT (${aliveSql('w', '$1')}) RETURNING id`, [
    deadAfterSeconds(timing),
  ]);
  return rows.length;
}
