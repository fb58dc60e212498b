// The embedded database's own thread (started by pglite-remote.ts): PGlite's WASM and protocol work runs here, so
// the main thread's event loop keeps serving pages while jobs run statements. Values go back as PostgreSQL's text;
// the main thread parses them (functions cannot cross threads), so results are what in-process PGlite returns.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, messages, type Results, type Transaction } from '@electric-sql/pglite';
import { pgliteOptions, type PGliteOpenOptions } from './pglite-options.ts';
import { PreparedStatements } from './pglite-prepared.ts';
import type { Reply, Request, WireError, WireResult } from './pglite-remote.ts';

const port = parentPort!;
const post = (m: Reply, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

function wireError(e: unknown): WireError {
  if (e instanceof messages.DatabaseError) {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) {
      if (k !== 'queryOptions' && k !== 'stack' && typeof v !== 'function') fields[k] = v;
    }
    return { database: true, message: e.message, length: e.length, name: e.name, fields };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { database: false, message: err.message, name: err.name, fields: { code: (err as { code?: unknown }).code } };
}

function wireResult(r: Results): WireResult {
  return {
    rows: r.rows as unknown[][],
    fields: r.fields,
    affectedRows: r.affectedRows,
    ...(r.rowCount !== undefined ? { rowCount: r.rowCount } : {}),
    ...((r as { command?: string }).command !== undefined ? { command: (r as { command?: string }).command } : {}),
  };
}

interface OpenTx {
  tx: Transaction;
  /** Statements of one transaction run in the order they were sent (a rollback is not awaited by Prisma). */
  chain: Promise<unknown>;
  end: (commit: boolean, replyId: number) => void;
}

const ROLLBACK = Symbol('rollback');
const txs = new Map<number, OpenTx>();
const unlisteners = new Map<number, () => Promise<void>>();
const identity = (x: string) => x;

async function main(): Promise<void> {
  const opts = workerData as PGliteOpenOptions;
  // PGlite runs initdb only for a directory (or memory) holding no database yet, and no dump to load.
  const runsInitdb = !opts.loadDataDir && !(opts.dataDir && existsSync(join(opts.dataDir, 'PG_VERSION')));
  const pglite = await PGlite.create(pgliteOptions(opts));
  // The element type of each array type, for the main thread's array parsers (PGlite builds the same at start).
  const arrays = await pglite.query<{ oid: number; typarray: number }>(
    `SELECT b.oid, b.typarray FROM pg_catalog.pg_type a LEFT JOIN pg_catalog.pg_type b ON b.oid = a.typelem
     WHERE a.typcategory = 'A' GROUP BY b.oid, b.typarray ORDER BY b.oid`,
  );
  // From here on every value is returned as PostgreSQL's text (NULL stays null).
  for (const k of Object.keys(pglite.parsers)) pglite.parsers[k] = identity;
  // A first start runs initdb in a WASM instance of its own (≈ 450 MB of memory) that is garbage once the database is
  // open; in-process the app's allocations soon collected it, but this thread allocates little and would keep it
  // resident for good (idle RSS 784 MB instead of ≈ 370 MB after a first start). One full collection now frees it.
  // Only then right away: opening a data directory that exists (every start after the first, and one copied from
  // the install-time template) leaves ≈ 16 MB, and collecting it here delayed the open by ≈ 0.1 s (decision 037): it
  // is collected a few seconds later instead (below).
  if (runsInitdb) collectGarbage();

  const inTx = <T>(id: number | undefined, fn: (q: Transaction | PGlite) => Promise<T>): Promise<T> => {
    if (id === undefined) return fn(pglite);
    const open = txs.get(id);
    if (!open) return Promise.reject(new Error('Transaction is closed'));
    const run = open.chain.then(() => fn(open.tx));
    open.chain = run.catch(() => undefined);
    return run;
  };

  // Opt-in (PGLITE_PREPARED=on): each distinct statement parsed once, by name (decision 039: not faster in the app).
  const prepared = opts.prepared ? new PreparedStatements(pglite) : undefined;
  // Planned for each call's values, as the unnamed statement is: with the default (auto) PostgreSQL switches a
  // statement to a generic plan after five calls when its estimate looks no worse, and the Emails search's generic
  // plan cost 3× its custom one (decision 039).
  if (prepared) await pglite.exec('SET plan_cache_mode = force_custom_plan');
  const query = async (m: Extract<Request, { op: 'query' }>): Promise<Results> => {
    const options = { rowMode: 'array' as const, paramTypes: m.paramTypes };
    if (!prepared) return inTx(m.tx, (q) => q.query(m.sql, m.params, options)) as Promise<Results>;
    if (m.tx === undefined) {
      await pglite.waitReady;
      if (pglite.closed) throw new Error('PGlite is closed');
      // As query() does: after any open transaction, one statement at a time.
      return pglite._runExclusiveTransaction(() =>
        pglite._runExclusiveQuery(() => prepared.query(m.sql, m.params ?? [], options, false)),
      );
    }
    return inTx(m.tx, (q) => {
      if ((q as Transaction).closed) throw new Error('Transaction is closed');
      return pglite._runExclusiveQuery(() => prepared.query(m.sql, m.params ?? [], options, true));
    });
  };

  const handle = async (m: Request): Promise<unknown> => {
    switch (m.op) {
      case 'query':
        return wireResult(await query(m));
      case 'exec':
        return (await inTx(m.tx, (q) => q.exec(m.sql, { rowMode: 'array' }))).map(wireResult);
      case 'rollback':
        return inTx(m.tx, (q) => (q as Transaction).rollback());
      case 'begin':
        return new Promise<void>((begun, failed) => {
          let endReply = 0;
          let started = false;
          pglite
            .transaction(async (tx) => {
              started = true;
              const commit = await new Promise<boolean>((resolve) => {
                txs.set(m.tx, {
                  tx,
                  chain: Promise.resolve(),
                  end: (c, replyId) => {
                    endReply = replyId;
                    resolve(c);
                  },
                });
                begun();
              });
              const open = txs.get(m.tx)!;
              await open.chain;
              txs.delete(m.tx);
              if (!commit) throw ROLLBACK;
            })
            .then(
              () => post({ kind: 'done', id: endReply, result: undefined }),
              (e) => {
                txs.delete(m.tx);
                if (!started) failed(e);
                else if (e === ROLLBACK) post({ kind: 'done', id: endReply, result: undefined });
                else post({ kind: 'error', id: endReply, error: wireError(e) });
              },
            );
        });
      case 'end': {
        const open = txs.get(m.tx);
        if (!open) throw new Error('Transaction is closed');
        open.end(m.commit, m.id);
        return NO_REPLY;
      }
      case 'listen': {
        const unlisten = await pglite.listen(m.channel, (payload) =>
          post({ kind: 'notify', listenId: m.listenId, payload }),
        );
        unlisteners.set(m.listenId, unlisten);
        return undefined;
      }
      case 'unlisten': {
        const unlisten = unlisteners.get(m.listenId);
        unlisteners.delete(m.listenId);
        if (unlisten && !pglite.closed) await unlisten();
        return undefined;
      }
      case 'dump': {
        const file = await pglite.dumpDataDir(m.compression);
        return await file.arrayBuffer();
      }
      case 'close':
        if (!pglite.closed) await pglite.close();
        setImmediate(() => port.close()); // after the reply: the thread ends once its port is closed
        return undefined;
      case 'memory':
        return { arrayBuffers: process.memoryUsage().arrayBuffers, collections };
      case 'crash':
        // Tests: an uncaught error in this thread, as a bug in PGlite would raise.
        setImmediate(() => {
          throw new Error('database thread crash requested by a test');
        });
        return NO_REPLY;
    }
  };

  // A few seconds after the open: one full collection, when no call is running (decision 041). The thread allocates
  // little, so V8 would not collect the open's garbage for a long time — PGlite's 9 MB read of pglite.wasm (compiled
  // by then) among it: ≈ 16 MB of idle RSS.
  const collectWhenIdle = () => {
    if (running > 0) setTimeout(collectWhenIdle, IDLE_COLLECT_RETRY_MS).unref();
    else collectGarbage();
  };
  let running = 0;
  port.on('message', (m: Request) => {
    running++;
    handle(m)
      .finally(() => running--)
      .then(
        (result) => {
          if (result === NO_REPLY) return;
          post({ kind: 'done', id: m.id, result }, result instanceof ArrayBuffer ? [result] : undefined);
        },
        (e) => post({ kind: 'error', id: m.id, error: wireError(e) }),
      );
  });
  if (!runsInitdb) setTimeout(collectWhenIdle, IDLE_COLLECT_MS).unref();
  post({
    kind: 'ready',
    arrays: arrays.rows.filter((r) => r.oid !== null).map((r) => [Number(r.oid), Number(r.typarray)]),
  });
}

const NO_REPLY = Symbol('no reply');
/** When the collection after an open is due (ms after ready), and how long it waits again while calls run. */
const IDLE_COLLECT_MS = 3_000;
const IDLE_COLLECT_RETRY_MS = 500;

let collections = 0;
function collectGarbage(): void {
  collections++;
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

main().catch((e) => {
  post({ kind: 'failed', error: wireError(e) });
});
