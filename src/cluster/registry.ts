// This process in the WorkerProcess table: registered at start, a heartbeat every few seconds, deregistered on stop.
// A process whose heartbeat went stale is dead for good: it learns so at its next heartbeat (or from its own lease
// clock while the database is unreachable), drops everything it held and registers again as a newcomer.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { aliveSql, reapDead, type ProcessRole } from './liveness.ts';
import { DEFAULT_TIMING, deadAfterSeconds, leaseValidityMs, type ClusterTiming } from './timing.ts';

export interface ProcessRegistration {
  readonly id: string;
  readonly role: ProcessRole;
  readonly timing: ClusterTiming;
  /** True while this process may act on its mailboxes and slots: its last good heartbeat is recent enough. */
  leaseValid(): boolean;
  /** Called (synchronously) when this process must assume others took its work over: stop everything at once. */
  onLost(listener: (reason: string) => void): () => void;
  /** Writes a heartbeat now (the loop does this every heartbeatMs). Resolves false when the process was found dead. */
  beat(): Promise<boolean>;
  /** Announces a graceful stop: no new work, others stop counting this process in their fair share. */
  markStopping(): Promise<void>;
  /** Stops the heartbeat and deletes the row (its remaining slots go with it). */
  stop(): Promise<void>;
}

export interface RegisterOptions {
  role: ProcessRole;
  timing?: ClusterTiming;
  logger?: Logger;
  /** Injected by tests of the fencing rule; performance.now by default. */
  monotonicNow?: () => number;
}

export async function registerProcess(db: Database, opts: RegisterOptions): Promise<ProcessRegistration> {
  const timing = opts.timing ?? DEFAULT_TIMING;
  const now = opts.monotonicNow ?? (() => performance.now());
  const id = randomUUID();
  const listeners = new Set<(reason: string) => void>();
  const validity = leaseValidityMs(timing);
  let lastGoodBeatStart = -Infinity;
  let lost = true; // until the first insert
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let fence: NodeJS.Timeout | undefined;
  let warned = false;

  const insert = async () => {
    const start = now();
    await db.control.query(
      'INSERT INTO "WorkerProcess" (id, host, pid, role, "startedAt", "heartbeatAt") VALUES ($1, $2, $3, $4, now(), now())',
      [id, hostname(), process.pid, opts.role],
    );
    granted(start);
  };

  function granted(start: number): void {
    lastGoodBeatStart = start;
    lost = false;
    clearTimeout(fence);
    // Fires only if no later heartbeat succeeds in time: the process fences itself before others may claim its work.
    fence = setTimeout(
      () => declareLost('no heartbeat reached the database in time'),
      Math.max(0, start + validity - now()),
    );
    fence.unref();
  }

  function declareLost(reason: string): void {
    if (lost || stopped) return;
    lost = true;
    opts.logger?.warn({ processId: id, reason }, 'this process lost its leases; it stops its work and rejoins');
    for (const l of [...listeners]) {
      try {
        l(reason);
      } catch (e) {
        opts.logger?.error({ err: e }, 'onLost listener failed');
      }
    }
  }

  async function beat(): Promise<boolean> {
    if (stopped) return false;
    const start = now();
    try {
      // Only a still-fresh row may be renewed: once stale, others may already hold this process's work.
      const rows = await db.control.query(
        `UPDATE "WorkerProcess" w SET "heartbeatAt" = now() WHERE w.id = $1 AND ${aliveSql('w', '$2')} RETURNING id`,
        [id, deadAfterSeconds(timing)],
      );
      if (rows.length && now() - start < validity) {
        granted(start);
        if (warned) {
          warned = false;
          opts.logger?.info({ processId: id }, 'heartbeat reaches the database again');
        }
        // On the heartbeat's connection too: behind a busy pool it would delay the next heartbeat past the lease.
        await reapDead(db.control, timing);
        return true;
      }
      declareLost(rows.length ? 'the heartbeat took too long' : 'the heartbeat had gone stale');
      await db.control.query('DELETE FROM "WorkerProcess" WHERE id = $1', [id]);
      await insert();
      return false;
    } catch (e) {
      if (!warned) {
        warned = true;
        opts.logger?.warn({ err: e, processId: id }, 'heartbeat failed; retrying');
      }
      if (now() - lastGoodBeatStart >= validity) declareLost('no heartbeat reached the database in time');
      return false;
    }
  }

  const loop = () => {
    timer = setTimeout(async () => {
      await beat();
      if (!stopped) loop();
    }, timing.heartbeatMs);
    timer.unref();
  };

  await reapDead(db.raw, timing);
  await insert();
  loop();

  return {
    id,
    role: opts.role,
    timing,
    leaseValid: () => !lost && !stopped && now() - lastGoodBeatStart < validity,
    onLost: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    beat,
    markStopping: async () => {
      await db.raw.query('UPDATE "WorkerProcess" SET "stoppingAt" = now() WHERE id = $1', [id]);
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(fence);
      await db.raw.query('DELETE FROM "WorkerProcess" WHERE id = $1', [id]);
    },
  };
}
