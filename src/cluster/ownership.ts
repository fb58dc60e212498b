// Mailbox ownership: each eligible mailbox is synchronized by exactly one live process. Every heartbeat (and at once
// when a mailbox, its grant or its profile changes) this process reconciles: it stops what it lost or what became
// ineligible, sheds what exceeds its fair share (ceil(mailboxes / live workers)), and claims unowned or dead-owned
// mailboxes up to that share. A session is always stopped before its mailbox is released, and a mailbox is never
// started here while its previous session is still stopping.
import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { RESYNC, type Notifier } from './notify.ts';
import {
  claimMailboxes,
  ensureSyncRows,
  localFingerprint,
  ownedBy,
  ownedFingerprint,
  releaseMailbox,
  shareCounts,
  type OwnedRow,
} from './ownership-sql.ts';
import type { ProcessRegistration } from './registry.ts';
import { deadAfterSeconds } from './timing.ts';

export const SYNC_CHANNEL = 'mailroom_sync';

/**
 * released: rebalanced or shutting down; ineligible: disabled, disconnected…; lost: deleted, or another process may
 * own it now.
 */
export type StopReason = 'released' | 'ineligible' | 'lost';

export interface OwnershipHandlers {
  /** Start synchronizing the mailbox (return quickly; run the session in the background). */
  start(mailboxId: string): void;
  /** Stop it; resolve once nothing runs for it any more (connection closed, slot released). */
  stop(mailboxId: string, reason: StopReason): Promise<void>;
  /** The mailbox, its grant or its profile changed and it stays eligible (settings, tokens): restart if it matters. */
  changed?(mailboxId: string): void;
}

export interface OwnershipDeps {
  db: Database;
  registration: ProcessRegistration;
  notifier: Notifier;
  handlers: OwnershipHandlers;
  logger?: Logger;
  /** Reconcile period; the registration's heartbeat by default. */
  intervalMs?: number;
}

interface Held {
  profileId: string | null;
  claimedAt: number;
}

export class MailboxOwnership {
  private held = new Map<string, Held>();
  private stopping = new Map<string, Promise<void>>();
  /**
   * Given up and stopped, but the release has not committed yet: still ours in the database. A pass in that window
   * must not adopt it again (it would start here and then be released under its running session, and another process
   * would start it too).
   */
  private releasing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private rerun = false;
  /** The last pass found this process over its fair share (shed only if the next pass agrees). */
  private overShare = false;
  private closed = false;
  private unlisten: (() => void) | undefined;
  private offLost: (() => void) | undefined;

  constructor(private readonly deps: OwnershipDeps) {}

  /** Mailboxes this process runs now. */
  owned(): string[] {
    return [...this.held.keys()];
  }

  async start(): Promise<void> {
    this.offLost = this.deps.registration.onLost(() => this.dropAll());
    this.unlisten = await this.deps.notifier.listen(SYNC_CHANNEL, (payload) => this.onChange(payload));
    await this.reconcile();
    this.schedule();
  }

  /** Runs one reconcile pass now (or right after the one in progress). */
  reconcile(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.rerun = false;
          await this.pass();
        } while (this.rerun && !this.closed);
      } catch (e) {
        this.deps.logger?.warn({ err: e }, 'mailbox ownership pass failed; retrying at the next heartbeat');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Graceful stop: no new claims, every session stopped, every mailbox released for the others. */
  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.soon);
    this.unlisten?.();
    this.offLost?.();
    await this.running;
    await this.deps.registration.markStopping().catch(() => undefined);
    await Promise.all(this.owned().map((id) => this.giveUp(id, 'released', 'STARTING')));
    await Promise.all([...this.stopping.values()]);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.reconcile().then(() => this.schedule());
    }, this.deps.intervalMs ?? this.deps.registration.timing.heartbeatMs);
    this.timer.unref();
  }

  private onChange(payload: string): void {
    if (this.closed) return;
    if (payload !== RESYNC) {
      const [kind, id] = [payload.slice(0, payload.indexOf(':')), payload.slice(payload.indexOf(':') + 1)];
      for (const [mailboxId, h] of this.held) {
        if ((kind === 'mailbox' && mailboxId === id) || (kind === 'profile' && h.profileId === id))
          this.safely(() => this.deps.handlers.changed?.(mailboxId));
      }
    }
    // Coalesce bursts (a bulk Test & Enable updates hundreds of rows in one commit).
    clearTimeout(this.soon);
    this.soon = setTimeout(() => {
      void this.reconcile();
    }, 25);
    this.soon.unref();
  }

  private async pass(): Promise<void> {
    const { db, registration } = this.deps;
    if (this.closed || !registration.leaseValid()) return;
    const deadSec = deadAfterSeconds(registration.timing);
    await ensureSyncRows(db.raw);
    const rows = new Map((await this.ownedRows(registration.id)).map((r) => [r.id, r]));
    if (this.closed || !registration.leaseValid()) return;

    for (const id of this.owned()) if (!rows.has(id)) this.drop(id, 'lost');
    for (const row of rows.values()) {
      const held = this.held.get(row.id);
      // Being given up: released once its session has stopped.
      if (!held && (this.stopping.has(row.id) || this.releasing.has(row.id))) continue;
      if (!row.eligible) {
        if (held) void this.giveUp(row.id, 'ineligible', 'STOPPED');
        else await releaseMailbox(db.raw, registration.id, row.id, 'STOPPED');
      } else if (!held)
        this.begin(row); // ours in the database but not running here (after a lost lease): adopt
      else held.profileId = row.profileId;
    }

    const { mailboxes, workers } = await shareCounts(db.raw, deadSec);
    const share = Math.ceil(mailboxes / Math.max(1, workers));
    const mine = [...this.held.keys()].filter((k) => rows.get(k)?.eligible);
    const over = mine.length > share;
    if (!over) this.overShare = false;
    if (over && !this.overShare) {
      // The rows and the counts are two reads: a mailbox deleted or disabled between them makes this process look
      // over its share for one pass, and shedding then would stop a healthy session for nothing (seen in the
      // ownership test: the newest mailbox released when another one was deleted). Shed only when a second pass,
      // run at once on fresh reads, agrees.
      this.overShare = true;
      this.rerun = true;
    } else if (over) {
      this.overShare = false;
      const newest = mine
        .sort((a, b) => this.held.get(b)!.claimedAt - this.held.get(a)!.claimedAt)
        .slice(0, mine.length - share);
      for (const k of newest) void this.giveUp(k, 'released', 'STARTING');
    } else if (mine.length < share && registration.leaseValid() && !this.closed) {
      for (const row of await claimMailboxes(db.raw, registration.id, share - mine.length, deadSec)) this.begin(row);
    }
  }

  /** What the database says this process owns; read in full only when it differs from what runs here. */
  private async ownedRows(processId: string): Promise<OwnedRow[]> {
    const { db } = this.deps;
    const f = await ownedFingerprint(db.raw, processId);
    if (f.ineligible === 0 && f.n === this.held.size && f.hash === localFingerprint(this.held)) {
      return [...this.held].map(([id, h]) => ({ id, profileId: h.profileId, eligible: true }));
    }
    return ownedBy(db.raw, processId);
  }

  private begin(row: OwnedRow): void {
    this.held.set(row.id, { profileId: row.profileId, claimedAt: Date.now() });
    const previous = this.stopping.get(row.id);
    const go = () => {
      if (this.held.has(row.id)) this.safely(() => this.deps.handlers.start(row.id));
    };
    if (previous) void previous.then(go);
    else go();
  }

  /** Stops the session; no release (the row is gone or belongs to someone else). */
  private drop(mailboxId: string, reason: StopReason): Promise<void> {
    this.held.delete(mailboxId);
    return this.stopSession(mailboxId, reason);
  }

  /** Stops the session, then releases the row so another process (or a later pass) can take it. */
  private giveUp(mailboxId: string, reason: StopReason, state: 'STOPPED' | 'STARTING'): Promise<void> {
    const { db, registration } = this.deps;
    this.releasing.add(mailboxId);
    return this.drop(mailboxId, reason)
      .then(() => releaseMailbox(db.raw, registration.id, mailboxId, state))
      .catch((e) =>
        this.deps.logger?.warn(
          { err: e, mailboxId },
          'could not release a mailbox; it is freed when this process stops',
        ),
      )
      .finally(() => this.releasing.delete(mailboxId));
  }

  private stopSession(mailboxId: string, reason: StopReason): Promise<void> {
    const prior = this.stopping.get(mailboxId) ?? Promise.resolve();
    const done: Promise<void> = prior
      .then(() => this.deps.handlers.stop(mailboxId, reason))
      .catch((e) => this.deps.logger?.error({ err: e, mailboxId }, 'stopping a mailbox session failed'))
      .finally(() => {
        if (this.stopping.get(mailboxId) === done) this.stopping.delete(mailboxId);
      });
    this.stopping.set(mailboxId, done);
    return done;
  }

  /** The lease is gone (heartbeat stale or unreachable): stop everything at once, others may own it all by now. */
  private dropAll(): void {
    for (const id of this.owned()) void this.drop(id, 'lost');
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.deps.logger?.error({ err: e }, 'mailbox ownership handler failed');
    }
  }
}
