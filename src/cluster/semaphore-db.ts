// The connection semaphore on PostgreSQL: one ConnectionSlot row per open connection, counted across all processes.
// An attempt locks its keys (transaction-scoped advisory locks, in key order), counts the slots of live holders and
// inserts one row per key, or none. A release deletes the rows and NOTIFYs the keys, so waiters in every process
// retry at once; slots of a dead process stop counting as soon as its heartbeat is stale (and are deleted with it).
import { randomUUID } from 'node:crypto';
import type { Database, RawSql } from '../db/client.ts';
import { transaction } from '../db/transaction.ts';
import type { Logger } from '../logger.ts';
import { aliveSql } from './liveness.ts';
import { RESYNC, type Notifier } from './notify.ts';
import type { ProcessRegistration } from './registry.ts';
import type { AcquireOptions } from './semaphore.ts';
import {
  HeldPermit,
  QueueingSemaphore,
  type Attempt,
  type BatchAttempt,
  type ResolvedClaim,
} from './semaphore-queue.ts';
import { deadAfterSeconds } from './timing.ts';

export const SLOTS_CHANNEL = 'mailroom_slots';
/** Advisory lock namespace (first int of the two-int form) for semaphore keys. */
const LOCK_NS = 72707370;

export interface DbSemaphoreDeps {
  db: Database;
  registration: ProcessRegistration;
  notifier: Notifier;
  logger?: Logger;
  pollMs?: number;
}

export class DbSemaphore extends QueueingSemaphore {
  private readonly deps: DbSemaphoreDeps;
  /** Slot id → permit, for yield requests addressed to a slot. */
  private bySlot = new Map<string, HeldPermit>();
  private unlisten: Promise<() => void>;
  /** Transactions made to take slots and statements to give them back (tests count them: decision 030). */
  readonly sql = { acquires: 0, releases: 0 };
  /** Releases waiting for the statement that writes them (free()). */
  private freeing: { slotIds: string[]; keys: string[]; done: () => void }[] = [];
  private flushing = false;
  /** Off: every release its own statement, as before decision 030 (bench/diag/semaphore-batch.ts compares the two). */
  protected coalesceReleases = true;

  constructor(deps: DbSemaphoreDeps) {
    super(deps.pollMs ?? 1_000);
    this.deps = deps;
    this.unlisten = deps.notifier.listen(SLOTS_CHANNEL, (payload) => this.onNotification(payload));
    this.unlisten.catch((e) => deps.logger?.warn({ err: e }, 'slot notifications unavailable; waiting by polling'));
  }

  private onNotification(payload: string): void {
    if (payload === RESYNC) return this.wake();
    const [kind, value] = [payload.slice(0, payload.indexOf(':')), payload.slice(payload.indexOf(':') + 1)];
    if (kind === 'free') {
      // "free:<holder process>:<key>": this process's own releases woke its waiters already (free()).
      const [holder, key] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
      if (holder !== this.deps.registration.id) this.wake([key]);
    } else if (kind === 'yield') this.bySlot.get(value)?.requestYield();
  }

  protected async attempt(claims: ResolvedClaim[], opts: AcquireOptions): Promise<Attempt> {
    const { db, registration } = this.deps;
    const keys = claims.map((c) => c.key);
    this.sql.acquires++;
    const ids = await transaction(db, async (tx): Promise<{ full: string[] } | { slotIds: string[] }> => {
      for (const key of keys) await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NS, key]);
      const n = await this.liveCounts(tx, keys);
      const full = claims.filter((c) => (n.get(c.key) ?? 0) >= c.limit).map((c) => c.key);
      if (full.length) return { full };
      const slotIds = keys.map(() => randomUUID());
      await tx.query(
        `INSERT INTO "ConnectionSlot" (id, key, "holderId", purpose, yieldable, "acquiredAt")
         SELECT unnest($1::text[]), unnest($2::text[]), $3, $4, $5, now()`,
        [slotIds, keys, registration.id, opts.purpose, opts.yieldable ?? false],
      );
      return { slotIds };
    });
    if ('full' in ids) return ids;
    return { permit: this.hold(keys, opts, ids.slotIds) };
  }

  /** Live slots per key (held by a process still alive), inside the transaction that holds the keys' locks. */
  private async liveCounts(tx: RawSql, keys: string[]): Promise<Map<string, number>> {
    const counts = await tx.query<{ key: string; n: number }>(
      `SELECT c.key, count(*)::int AS n FROM "ConnectionSlot" c
       WHERE c.key = ANY($1::text[]) AND EXISTS (SELECT 1 FROM "WorkerProcess" w WHERE w.id = c."holderId" AND ${aliveSql('w', '$2')})
       GROUP BY c.key`,
      [keys, deadAfterSeconds(this.deps.registration.timing)],
    );
    return new Map(counts.map((r) => [r.key, Number(r.n)]));
  }

  /** The permit for slots just inserted, known by their ids so a yield request finds it. */
  private hold(keys: string[], opts: AcquireOptions, slotIds: string[]): HeldPermit {
    const permit: HeldPermit = new HeldPermit(keys, opts.yieldable ?? false, () => this.free(slotIds, keys));
    for (const id of slotIds) this.bySlot.set(id, permit);
    return permit;
  }

  /**
   * A batch of tries in one transaction: the keys of all of them locked (in the order every attempt locks them), their
   * live slots counted once, the tries decided in order against those counts, and every granted slot inserted at once.
   * Before, each try was a transaction of its own (five round trips holding the key's lock), one after another: at
   * Test & Enable's concurrency 50 the hot key checks:all made them a queue (decision 030).
   */
  protected override async attemptMany(
    batch: { claims: ResolvedClaim[]; opts: AcquireOptions }[],
  ): Promise<BatchAttempt[]> {
    if (batch.length === 1) return [await this.attempt(batch[0].claims, batch[0].opts)];
    const { db, registration } = this.deps;
    const keys = [...new Set(batch.flatMap((b) => b.claims.map((c) => c.key)))].sort((a, b) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    this.sql.acquires++;
    const decided = await transaction(db, async (tx) => {
      // In key order (as attempt() takes them one by one), so two lockers never wait for each other in a cycle.
      await tx.query(
        `SELECT count(pg_advisory_xact_lock($1, hashtext(s.k)))
         FROM (SELECT k FROM unnest($2::text[]) WITH ORDINALITY AS u(k, ord) ORDER BY ord) s`,
        [LOCK_NS, keys],
      );
      const n = await this.liveCounts(tx, keys);
      const fullHere = new Set<string>();
      const rows = { ids: [] as string[], keys: [] as string[], purposes: [] as string[], yieldable: [] as boolean[] };
      const out = batch.map((b): { behind: string[] } | { full: string[] } | { slotIds: string[] } => {
        const behind = b.claims.filter((c) => fullHere.has(c.key)).map((c) => c.key);
        if (behind.length) return { behind };
        const full = b.claims.filter((c) => (n.get(c.key) ?? 0) >= c.limit).map((c) => c.key);
        if (full.length) {
          for (const key of full) fullHere.add(key);
          return { full };
        }
        const slotIds = b.claims.map((c) => {
          n.set(c.key, (n.get(c.key) ?? 0) + 1);
          const id = randomUUID();
          rows.ids.push(id);
          rows.keys.push(c.key);
          rows.purposes.push(b.opts.purpose);
          rows.yieldable.push(b.opts.yieldable ?? false);
          return id;
        });
        return { slotIds };
      });
      if (rows.ids.length)
        await tx.query(
          `INSERT INTO "ConnectionSlot" (id, key, "holderId", purpose, yieldable, "acquiredAt")
           SELECT unnest($1::text[]), unnest($2::text[]), $3, unnest($4::text[]), unnest($5::boolean[]), now()`,
          [rows.ids, rows.keys, registration.id, rows.purposes, rows.yieldable],
        );
      return out;
    });
    return decided.map((d, i): BatchAttempt => {
      if ('behind' in d) return { full: d.behind, behind: true };
      if ('full' in d) return d;
      return {
        permit: this.hold(
          batch[i].claims.map((c) => c.key),
          batch[i].opts,
          d.slotIds,
        ),
      };
    });
  }

  /**
   * Gives slots back. Releases that come in while one is being written are written together by the next statement
   * (at concurrency 50 each Test & Enable job releases three permits: one statement each was a queue on the pool).
   */
  private free(slotIds: string[], keys: string[]): Promise<void> {
    for (const id of slotIds) this.bySlot.delete(id);
    if (!this.coalesceReleases) return this.deleteSlots(slotIds, keys).then(() => this.wake(keys));
    return new Promise((done) => {
      this.freeing.push({ slotIds, keys, done });
      if (!this.flushing) void this.flushFrees();
    });
  }

  private async flushFrees(): Promise<void> {
    this.flushing = true;
    try {
      while (this.freeing.length) {
        const batch = this.freeing.splice(0);
        const slotIds = batch.flatMap((b) => b.slotIds);
        const keys = [...new Set(batch.flatMap((b) => b.keys))];
        await this.deleteSlots(slotIds, keys);
        this.wake(keys);
        for (const b of batch) b.done();
      }
    } finally {
      this.flushing = false;
    }
  }

  private async deleteSlots(slotIds: string[], keys: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.sql.releases++;
        await this.deps.db.raw.query(
          `WITH d AS (DELETE FROM "ConnectionSlot" WHERE id = ANY($1::text[]) RETURNING key)
           SELECT pg_notify('${SLOTS_CHANNEL}', 'free:' || $2 || ':' || key) FROM (SELECT DISTINCT key FROM d) k`,
          [slotIds, this.deps.registration.id],
        );
        return;
      } catch (e) {
        if (attempt >= 3 || this.closed) {
          // The rows go at the latest with this process's WorkerProcess row; until then they count against the key.
          this.deps.logger?.warn(
            { err: e, keys },
            'could not release connection slots; they are freed when this process stops',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  protected async askToYield(key: string): Promise<void> {
    const { db, registration } = this.deps;
    await db.raw.query(
      `SELECT pg_notify('${SLOTS_CHANNEL}', 'yield:' || c.id) FROM "ConnectionSlot" c
       WHERE c.key = $1 AND c.yieldable AND EXISTS (SELECT 1 FROM "WorkerProcess" w WHERE w.id = c."holderId" AND ${aliveSql('w', '$2')})
       ORDER BY c."acquiredAt", c.id LIMIT 1`,
      [key, deadAfterSeconds(registration.timing)],
    );
  }

  async holders(key: string): Promise<number> {
    const rows = await this.deps.db.raw.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "ConnectionSlot" c
       WHERE c.key = $1 AND EXISTS (SELECT 1 FROM "WorkerProcess" w WHERE w.id = c."holderId" AND ${aliveSql('w', '$2')})`,
      [key, deadAfterSeconds(this.deps.registration.timing)],
    );
    return Number(rows[0]?.n ?? 0);
  }

  override async close(): Promise<void> {
    await super.close();
    (await this.unlisten.catch(() => () => {}))();
  }
}
