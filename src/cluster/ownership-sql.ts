// The statements behind mailbox ownership. Which mailboxes synchronize is decided here, once, in SQL.
import { createHash } from 'node:crypto';
import type { RawSql } from '../db/client.ts';
import { aliveSql, SYNC_ROLES } from './liveness.ts';

/** A mailbox (aliased m) that should be synchronized now. */
export const ELIGIBLE = `(m."enabledForIncoming" AND m."incomingEmail" = 'SERVER_SIDE_SYNC' AND m."emailApproval" = 'APPROVED'
  AND m."profileId" IS NOT NULL)`;

const ROLES = SYNC_ROLES.map((r) => `'${r}'`).join(', ');

/** Gives every eligible mailbox its MailboxSync row (kept afterwards: it holds the cursor). */
export async function ensureSyncRows(sql: RawSql): Promise<void> {
  await sql.query(`INSERT INTO "MailboxSync" ("mailboxId")
    SELECT m.id FROM "Mailbox" m WHERE ${ELIGIBLE} AND NOT EXISTS (SELECT 1 FROM "MailboxSync" s WHERE s."mailboxId" = m.id)
    ON CONFLICT DO NOTHING`);
}

export interface OwnedRow {
  id: string;
  profileId: string | null;
  eligible: boolean;
}

/**
 * What this process owns, in one row: count, ineligible count and an md5 of "id:profileId" sorted bytewise. When it
 * matches what the process runs, the pass skips reading the whole list (1,000 rows cost ~20 ms on PGlite).
 */
export async function ownedFingerprint(
  sql: RawSql,
  processId: string,
): Promise<{ n: number; ineligible: number; hash: string | null }> {
  const [row] = await sql.query<{ n: number; ineligible: number; hash: string | null }>(
    `SELECT count(*)::int AS n,
      (count(*) FILTER (WHERE NOT ${ELIGIBLE}))::int AS ineligible,
      md5(string_agg(s."mailboxId" || ':' || COALESCE(m."profileId", ''), ',' ORDER BY s."mailboxId" COLLATE "C")) AS hash
    FROM "MailboxSync" s JOIN "Mailbox" m ON m.id = s."mailboxId" WHERE s."ownerId" = $1`,
    [processId],
  );
  return { n: Number(row.n), ineligible: Number(row.ineligible), hash: row.hash };
}

/** The same fingerprint computed from what this process runs. */
export function localFingerprint(held: Iterable<[string, { profileId: string | null }]>): string | null {
  const parts = [...held].map(([id, h]) => `${id}:${h.profileId ?? ''}`).sort();
  return parts.length ? createHash('md5').update(parts.join(',')).digest('hex') : null;
}

export async function ownedBy(sql: RawSql, processId: string): Promise<OwnedRow[]> {
  return sql.query<OwnedRow>(
    `SELECT s."mailboxId" AS id, m."profileId" AS "profileId", ${ELIGIBLE} AS eligible
    FROM "MailboxSync" s JOIN "Mailbox" m ON m.id = s."mailboxId" WHERE s."ownerId" = $1`,
    [processId],
  );
}

/** Eligible mailboxes, and live synchronizing processes that take new work: the fair share is their ceil(ratio). */
export async function shareCounts(sql: RawSql, deadAfterSec: number): Promise<{ mailboxes: number; workers: number }> {
  const [row] = await sql.query<{ mailboxes: number; workers: number }>(
    `SELECT
    (SELECT count(*)::int FROM "MailboxSync" s JOIN "Mailbox" m ON m.id = s."mailboxId" WHERE ${ELIGIBLE}) AS mailboxes,
    (SELECT count(*)::int FROM "WorkerProcess" w WHERE ${aliveSql('w', '$1')} AND w.role IN (${ROLES}) AND w."stoppingAt" IS NULL) AS workers`,
    [deadAfterSec],
  );
  return { mailboxes: Number(row.mailboxes), workers: Number(row.workers) };
}

/**
 * Takes up to `limit` eligible mailboxes that have no live owner. SKIP LOCKED keeps two claimers off the same rows;
 * the liveness test is a subquery (not a join) so that PostgreSQL's re-check of a row changed meanwhile by another
 * claimer sees the new owner and leaves the row alone. A stopping owner's mailboxes are not taken: it releases them
 * itself once their sessions are closed.
 */
export async function claimMailboxes(
  sql: RawSql,
  processId: string,
  limit: number,
  deadAfterSec: number,
): Promise<OwnedRow[]> {
  if (limit <= 0) return [];
  return sql.query<OwnedRow>(
    `UPDATE "MailboxSync" s SET "ownerId" = $1, "claimedAt" = now(), "updatedAt" = now(), state = 'STARTING'
    FROM "Mailbox" m
    WHERE m.id = s."mailboxId" AND s."mailboxId" IN (
      SELECT s2."mailboxId" FROM "MailboxSync" s2 JOIN "Mailbox" m ON m.id = s2."mailboxId"
      WHERE ${ELIGIBLE} AND (s2."ownerId" IS NULL
        OR NOT EXISTS (SELECT 1 FROM "WorkerProcess" w WHERE w.id = s2."ownerId" AND ${aliveSql('w', '$3')}))
      ORDER BY s2."mailboxId" LIMIT $2
      FOR UPDATE OF s2 SKIP LOCKED)
    RETURNING s."mailboxId" AS id, m."profileId" AS "profileId", true AS eligible`,
    [processId, limit, deadAfterSec],
  );
}

/**
 * Gives a mailbox up (its session has stopped). Only the owner can; a row taken over meanwhile is left alone. The
 * notification lets the other processes claim it at once (rebalance, graceful stop) instead of at their next pass.
 */
export async function releaseMailbox(
  sql: RawSql,
  processId: string,
  mailboxId: string,
  state: 'STOPPED' | 'STARTING',
): Promise<void> {
  await sql.query(
    `WITH r AS (UPDATE "MailboxSync" SET "ownerId" = NULL, "claimedAt" = NULL, "updatedAt" = now(), state = $3::"SyncState"
      WHERE "mailboxId" = $2 AND "ownerId" = $1 RETURNING "mailboxId")
    SELECT pg_notify('mailroom_sync', 'mailbox:' || "mailboxId") FROM r`,
    [processId, mailboxId, state],
  );
}
