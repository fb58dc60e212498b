// LISTEN/NOTIFY on either engine: PGlite's own listen, or one dedicated PostgreSQL connection per process that
// reconnects by itself. Notifications are a fast path only: after a reconnect every handler gets RESYNC (something may
// have been missed), and every user also reconciles on a timer.
import pg from 'pg';
import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';

export const RESYNC = '*';
export type NotifyHandler = (payload: string) => void;

export interface Notifier {
  listen(channel: string, handler: NotifyHandler): Promise<() => void>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_]{1,63}$/;
function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`bad channel name ${channel}`);
}

export function createNotifier(db: Database, logger?: Logger): Notifier {
  return db.pglite ? pgliteNotifier(db) : postgresNotifier(db, logger);
}

function pgliteNotifier(db: Database): Notifier {
  const pglite = db.pglite!;
  const unsubs = new Set<() => Promise<void>>();
  return {
    async listen(channel, handler) {
      checkChannel(channel);
      const unsub = await pglite.listen(channel, handler);
      unsubs.add(unsub);
      return () => {
        unsubs.delete(unsub);
        if (!pglite.closed) void unsub().catch(() => undefined);
      };
    },
    async notify(channel, payload) {
      await db.raw.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      if (!pglite.closed) await Promise.all([...unsubs].map((u) => u().catch(() => undefined)));
      unsubs.clear();
    },
  };
}

function postgresNotifier(db: Database, logger?: Logger): Notifier {
  const handlers = new Map<string, Set<NotifyHandler>>();
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let closed = false;
  let retryMs = 250;

  const dispatch = (channel: string, payload: string) => {
    for (const h of handlers.get(channel) ?? []) {
      try {
        h(payload);
      } catch (e) {
        logger?.error({ err: e, channel }, 'notification handler failed');
      }
    }
  };

  async function connect(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: db.databaseUrl });
    c.on('notification', (n) => dispatch(n.channel, n.payload ?? ''));
    c.on('error', () => {
      /* 'end' follows and reconnects */
    });
    c.on('end', () => {
      if (client === c) client = undefined;
      if (closed) return;
      setTimeout(() => {
        void ensure().catch(() => undefined);
      }, retryMs).unref();
      retryMs = Math.min(retryMs * 2, 5_000);
    });
    await c.connect();
    for (const channel of handlers.keys()) await c.query(`LISTEN "${channel}"`);
    return c;
  }

  function ensure(): Promise<pg.Client> {
    if (client) return Promise.resolve(client);
    connecting ??= connect().then(
      (c) => {
        const reconnected = retryMs > 250;
        client = c;
        connecting = undefined;
        retryMs = 250;
        if (closed) {
          void c.end();
          throw new Error('notifier closed');
        }
        if (reconnected) for (const channel of handlers.keys()) dispatch(channel, RESYNC);
        return c;
      },
      (e) => {
        connecting = undefined;
        if (!closed) {
          logger?.warn({ err: e }, 'notification connection failed; retrying');
          setTimeout(() => {
            void ensure().catch(() => undefined);
          }, retryMs).unref();
          retryMs = Math.min(retryMs * 2, 5_000);
        }
        throw e;
      },
    );
    return connecting;
  }

  return {
    async listen(channel, handler) {
      checkChannel(channel);
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await (await ensure()).query(`LISTEN "${channel}"`); // idempotent if connect() just listened
      }
      set.add(handler);
      return () => {
        set.delete(handler);
      };
    },
    async notify(channel, payload) {
      await db.raw.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      closed = true;
      const c = client ?? (connecting ? await connecting.catch(() => undefined) : undefined);
      client = undefined;
      if (c) await c.end().catch(() => undefined);
    },
  };
}
