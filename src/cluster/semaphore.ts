// Connection budgets: a counting semaphore per key (a profile's or mailbox's Maximum Concurrent Connections, Gmail's
// 15 IMAP connections per account) shared by Test & Enable and synchronization. PostgreSQL counts across every process
// (semaphore-db.ts); embedded PGlite is one process by construction and counts in memory (semaphore-local.ts).
// This file holds the contract only; start.ts picks the implementation.

export interface SlotClaim {
  key: string;
  /** Read at every attempt, so a limit lowered at runtime holds for everyone still waiting. */
  limit: number | (() => number | Promise<number>);
}

export interface AcquireOptions {
  /** What holds the slot, for diagnostics: "sync:<mailboxId>", "test:<mailboxId>". */
  purpose: string;
  signal?: AbortSignal;
  /** A long-lived holder (an IDLE connection) that will give its slot up when asked (Permit.onYieldRequested). */
  yieldable?: boolean;
}

export interface Permit {
  readonly keys: readonly string[];
  readonly yieldable: boolean;
  /** Gives every slot back; safe to call twice. */
  release(): Promise<void>;
  /**
   * Yieldable permits only: called when someone waits for one of these keys and this is the key's oldest yieldable
   * holder. The holder decides when to honour it (e.g. after a minimum hold), closes its connection and releases.
   */
  onYieldRequested(listener: () => void): void;
}

export interface ConnectionSemaphore {
  /** Waits (first come, first served per key) until every key has a free slot, then takes one of each at once. */
  acquire(claims: SlotClaim[], opts: AcquireOptions): Promise<Permit>;
  /** One attempt: a permit, or null when a key is full (no waiting, no yield request). */
  tryAcquire(claims: SlotClaim[], opts: AcquireOptions): Promise<Permit | null>;
  run<T>(claims: SlotClaim[], opts: AcquireOptions, fn: () => Promise<T>): Promise<T>;
  /** Slots of a key held now by live holders. */
  holders(key: string): Promise<number>;
  close(): Promise<void>;
}
