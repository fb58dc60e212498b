// How often a process proves it is alive, and when the others may treat it as dead and take its work over.
// Takeover bound after kill -9: deadAfterMs (its last heartbeat ages out) + heartbeatMs (the next claim pass of a
// survivor) = 20 s with the defaults, inside issue 11's 30 s (docs/decisions/012).
export interface ClusterTiming {
  /** A live process writes its heartbeat and reconciles its mailboxes this often. */
  heartbeatMs: number;
  /** A process whose heartbeat is older than this is dead: its mailboxes and connection slots are free. */
  deadAfterMs: number;
}

export const DEFAULT_TIMING: ClusterTiming = { heartbeatMs: 5_000, deadAfterMs: 15_000 };

/**
 * How long a process may still act on its leases after a heartbeat *began*. Shorter than deadAfterMs, so a process
 * that cannot reach the database (or was frozen) stops its own work before any other process may claim it.
 */
export function leaseValidityMs(t: ClusterTiming): number {
  return Math.max(t.heartbeatMs, t.deadAfterMs - Math.max(1_000, Math.round(t.heartbeatMs / 2)));
}

/** `now() - interval` for SQL: the dead-after bound as seconds (numeric parameter). */
export function deadAfterSeconds(t: ClusterTiming): number {
  return t.deadAfterMs / 1000;
}
