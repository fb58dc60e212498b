// Puts the cluster parts together for one process: its registration (heartbeat), notifications, the connection
// semaphore and, for worker roles, mailbox ownership. Stops them in the order that hands work over cleanly.
import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import type { ProcessRole } from './liveness.ts';
import { createNotifier, type Notifier } from './notify.ts';
import { MailboxOwnership, type OwnershipHandlers } from './ownership.ts';
import { registerProcess, type ProcessRegistration } from './registry.ts';
import type { ConnectionSemaphore } from './semaphore.ts';
import { DbSemaphore } from './semaphore-db.ts';
import { LocalSemaphore } from './semaphore-local.ts';
import { DEFAULT_TIMING, type ClusterTiming } from './timing.ts';

export interface ClusterOptions {
  role: ProcessRole;
  timing?: ClusterTiming;
  logger?: Logger;
  /** Backstop re-check of a waiting acquire on PostgreSQL. */
  semaphorePollMs?: number;
}

export interface Cluster {
  registration: ProcessRegistration;
  notifier: Notifier;
  semaphore: ConnectionSemaphore;
  /** Starts owning mailboxes with these session handlers (worker roles only). */
  own(handlers: OwnershipHandlers): Promise<MailboxOwnership>;
  /** Releases mailboxes (after their sessions stopped), then slots, then deregisters. */
  stop(): Promise<void>;
}

/** PostgreSQL: the ConnectionSlot table, shared by all processes. PGlite: in memory, no SQL per connection. */
export function createConnectionSemaphore(
  db: Database,
  registration: ProcessRegistration,
  notifier: Notifier,
  logger?: Logger,
  pollMs?: number,
): ConnectionSemaphore {
  return db.kind === 'pglite'
    ? new LocalSemaphore(pollMs)
    : new DbSemaphore({ db, registration, notifier, logger, pollMs });
}

export async function startCluster(db: Database, opts: ClusterOptions): Promise<Cluster> {
  const registration = await registerProcess(db, {
    role: opts.role,
    timing: opts.timing ?? DEFAULT_TIMING,
    logger: opts.logger,
  });
  const notifier = createNotifier(db, opts.logger);
  const semaphore = createConnectionSemaphore(db, registration, notifier, opts.logger, opts.semaphorePollMs);
  const owners: MailboxOwnership[] = [];
  return {
    registration,
    notifier,
    semaphore,
    async own(handlers) {
      if (opts.role === 'web') throw new Error('A web process does not synchronize mailboxes.');
      const ownership = new MailboxOwnership({ db, registration, notifier, handlers, logger: opts.logger });
      owners.push(ownership);
      await ownership.start();
      return ownership;
    },
    async stop() {
      await Promise.all(owners.map((o) => o.stop()));
      await semaphore.close();
      await registration.stop().catch((e) => opts.logger?.warn({ err: e }, 'could not deregister this process'));
      await notifier.close();
    },
  };
}
