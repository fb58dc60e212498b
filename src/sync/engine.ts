// The synchronization engine of a worker process: the session handlers given to the cluster's mailbox ownership.
// start → a MailboxSession in the background; stop → close its connection and wait; changed → restart only when
// what the connection was built from changed (server, credentials, grant), not on every status write.
import type { Cluster } from '../cluster/start.ts';
import type { MailboxOwnership } from '../cluster/ownership.ts';
import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import type { CredentialProviders } from '../mail/credentials.ts';
import { loadSession, sessionFingerprint } from './load.ts';
import { MailboxSession } from './session.ts';
import { syncSettings, type SyncSettings } from './settings.ts';
import type { SyncEnv } from './env.ts';

export interface SyncEngineDeps {
  db: Database;
  logger: Logger;
  providers: CredentialProviders;
  mailTlsCa?: string | Buffer;
}

export interface SyncEngine {
  ownership: MailboxOwnership;
  /** Mailboxes with a running session in this process. */
  running(): string[];
}

export async function startSyncEngine(
  deps: SyncEngineDeps,
  cluster: Cluster,
  settings: Partial<SyncSettings> = {},
): Promise<SyncEngine> {
  const env: SyncEnv = {
    db: deps.db,
    logger: deps.logger,
    ownerId: cluster.registration.id,
    semaphore: cluster.semaphore,
    providers: deps.providers,
    ca: deps.mailTlsCa,
    settings: syncSettings(settings),
  };
  const sessions = new Map<string, MailboxSession>();
  const checking = new Set<string>();
  const ref: { ownership?: MailboxOwnership } = {};

  const start = (id: string) => {
    if (sessions.get(id) && !sessions.get(id)?.stopped) return;
    sessions.set(id, new MailboxSession(env, id));
  };
  const stop = async (id: string) => {
    const s = sessions.get(id);
    if (!s) return;
    await s.stop();
    if (sessions.get(id) === s) sessions.delete(id);
  };
  const changed = (id: string) => {
    if (checking.has(id)) return;
    checking.add(id);
    void (async () => {
      try {
        const s = sessions.get(id);
        const data = await loadSession(env.db, id);
        if (!s || !data || s.fingerprint === null || s.fingerprint === sessionFingerprint(data)) return;
        env.logger.info({ mailboxId: id }, 'mailbox settings changed: restarting its synchronization');
        await stop(id);
        if (ref.ownership?.owned().includes(id)) start(id);
      } catch (e) {
        env.logger.warn({ err: e, mailboxId: id }, 'could not check a changed mailbox');
      } finally {
        checking.delete(id);
      }
    })();
  };

  ref.ownership = await cluster.own({ start, stop, changed });
  const ownership = ref.ownership;
  return { ownership, running: () => [...sessions.keys()] };
}
