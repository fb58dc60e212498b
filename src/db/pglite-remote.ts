// The embedded database in a thread of its own (issue 15, decision 024): PGlite spends ~2 ms of CPU per statement in
// WASM and its protocol code; run on the main thread that starved the event loop serving pages whenever jobs ran.
// PGliteRemote is the part of PGlite's API Mailroom uses (the Prisma adapter, pg-boss's fromPglite, raw SQL,
// transactions, LISTEN), forwarded to pglite-thread.ts. Values come back as PostgreSQL's text and are parsed here with
// PGlite's own parsers and the caller's, so results are what in-process PGlite returns; database errors are rebuilt
// as PGlite's DatabaseError class (the Prisma adapter maps them by instanceof: unique violation → P2002, …).
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { messages, types, type QueryOptions, type Results } from '@electric-sql/pglite';
import type { PGliteOpenOptions } from './pglite-options.ts';

type Parser = (x: string, typeId?: number) => unknown;
type Parsers = Record<number | string, Parser>;

export interface WireError {
  database: boolean;
  message: string;
  name: string;
  length?: number;
  fields: Record<string, unknown>;
}
export interface WireResult {
  rows: unknown[][];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
  rowCount?: number;
  command?: string;
}
type Compression = 'none' | 'gzip' | 'auto';
export type Request = { id: number } & (
  | { op: 'query'; sql: string; params?: unknown[]; paramTypes?: number[]; tx?: number }
  | { op: 'exec'; sql: string; tx?: number }
  | { op: 'rollback'; tx: number }
  | { op: 'begin'; tx: number }
  | { op: 'end'; tx: number; commit: boolean }
  | { op: 'listen'; channel: string; listenId: number }
  | { op: 'unlisten'; listenId: number }
  | { op: 'dump'; compression?: Compression }
  | { op: 'close' }
  | { op: 'crash' }
  | { op: 'memory' }
);
type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;
export type Reply =
  | { kind: 'ready'; arrays: [number, number][] }
  | { kind: 'failed'; error: WireError }
  | { kind: 'notify'; listenId: number; payload: string }
  | { kind: 'done'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: WireError };

/** The thread's entry, next to this file: .ts under tsx (tests, dev), .js when compiled (npm start). */
const THREAD_FILE = new URL(`./pglite-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Compiled, the thread runs the .js file; under tsx (tests, bench, `src/*.ts`) a worker does not inherit tsx's loader
 * on Node 20, so the thread registers it first, then imports the .ts file.
 */
const THREAD_ENTRY: URL | string = THREAD_FILE.pathname.endsWith('.ts')
  ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_FILE.href)}); })`
  : THREAD_FILE;

export class DatabaseThreadError extends Error {}

function rebuildError(w: WireError, options?: QueryOptions): Error {
  if (w.database) {
    const e = new messages.DatabaseError(w.message, w.length ?? 0, w.name as never);
    Object.assign(e, w.fields);
    if (options) (e as unknown as { queryOptions: QueryOptions }).queryOptions = options;
    return e;
  }
  const e = new Error(w.message);
  if (w.name && w.name !== 'Error') e.name = w.name;
  if (w.fields.code !== undefined) (e as Error & { code?: unknown }).code = w.fields.code;
  return e;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  options?: QueryOptions;
}

export interface RemoteTransaction {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(sql: string, options?: QueryOptions): Promise<Results[]>;
  rollback(): Promise<void>;
  readonly closed: boolean;
}

/** What Mailroom uses of PGlite: met by PGliteRemote, and by an in-process PGlite. */
export interface PGliteLike {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(sql: string, options?: QueryOptions): Promise<Results[]>;
  transaction<T>(fn: (tx: RemoteTransaction) => Promise<T>): Promise<T>;
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
  dumpDataDir(compression?: Compression): Promise<Blob>;
  readonly closed: boolean;
  close(): Promise<void>;
}

export class PGliteRemote implements PGliteLike {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<number, (payload: string) => void>();
  #seq = 0;
  #parsers: Parsers = { ...types.parsers };
  readonly #merged = new WeakMap<object, Parsers>();
  #closed = false;
  #closing: Promise<void> | undefined;
  #dead: Error | undefined;
  #ready: Promise<void>;
  #failStart: (e: Error) => void = () => undefined;
  /** Resolves once the database is open in the thread; rejects with the reason it could not be opened. */
  readonly waitReady: Promise<void>;
  /** Called once if the thread stops without close() (a crash): every pending and later call rejects. */
  onCrash: ((err: Error) => void) | undefined;

  private constructor(opts: PGliteOpenOptions) {
    this.#worker = new Worker(THREAD_ENTRY, {
      eval: THREAD_ENTRY !== THREAD_FILE,
      workerData: opts, // copied: a test template's dump is loaded again by the next database
      // Its stdout/stderr go straight to the process's (PGlite reports start-up problems there).
      stdout: false,
      stderr: false,
    });
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#failStart = reject;
      this.#worker.on('message', (m: Reply) => {
        switch (m.kind) {
          case 'notify':
            this.#listeners.get(m.listenId)?.(m.payload);
            return;
          case 'done':
          case 'error': {
            const p = this.#pending.get(m.id);
            if (!p) return;
            this.#pending.delete(m.id);
            if (this.#pending.size === 0 && !this.#closing) this.#worker.unref();
            if (m.kind === 'done') p.resolve(m.result);
            else p.reject(rebuildError(m.error, p.options));
            return;
          }
          case 'ready':
            // Before any reply: the thread answers calls only once it is open, and posts this first.
            this.#buildArrayParsers(m.arrays);
            if (this.#pending.size === 0 && !this.#closing) this.#worker.unref();
            resolve();
            return;
          case 'failed': {
            // Calls made while it was opening fail with the reason, and the thread (open or not) goes.
            const err = rebuildError(m.error);
            this.#dead = err;
            this.#closed = true;
            reject(err);
            for (const p of this.#pending.values()) p.reject(err);
            this.#pending.clear();
            this.#listeners.clear();
            this.#worker.terminate().catch(() => undefined);
            return;
          }
        }
      });
    });
    this.#ready.catch(() => undefined);
    this.waitReady = this.#ready;
    this.#worker.on('error', (err) => this.#stopped(err));
    this.#worker.on('exit', (code) => this.#stopped(new Error(`exit code ${code}`)));
  }

  /**
   * Starts the thread opening the database and returns at once. Calls made before it is open wait in the thread's
   * port and run once it is (in the order made), so a caller can build what it needs meanwhile (decision 041);
   * `waitReady` says when, or why not.
   */
  static start(opts: PGliteOpenOptions): PGliteRemote {
    return new PGliteRemote(opts);
  }

  /** Starts the thread and opens the database in it (as PGlite.create does in process). */
  static async create(opts: PGliteOpenOptions): Promise<PGliteRemote> {
    const remote = new PGliteRemote(opts);
    try {
      await remote.#ready;
    } catch (e) {
      await remote.#worker.terminate().catch(() => undefined);
      throw e;
    }
    remote.#worker.unref(); // like in-process PGlite, an idle database does not keep the process alive
    return remote;
  }

  #stopped(err: Error): void {
    if (this.#dead) return;
    const expected = this.#closed && this.#pending.size === 0;
    this.#dead = expected
      ? new Error('The database is closed')
      : new DatabaseThreadError(`The embedded database thread stopped unexpectedly: ${err.message}`, { cause: err });
    this.#closed = true;
    this.#failStart(this.#dead);
    for (const p of this.#pending.values()) p.reject(this.#dead);
    this.#pending.clear();
    this.#listeners.clear();
    if (!expected) this.onCrash?.(this.#dead);
  }

  /** PGlite's parser for each array type, over the element type's default parser, exactly as PGlite builds it. */
  #buildArrayParsers(arrays: [number, number][]): void {
    const parsers = this.#parsers;
    for (const [oid, typarray] of arrays) {
      parsers[typarray] = (x: string) => types.arrayParser(x, parsers[oid] as types.Parser, typarray);
    }
  }

  #call(body: RequestBody, options?: QueryOptions): Promise<unknown> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      try {
        this.#worker.postMessage({ ...body, id });
      } catch (e) {
        reject(e as Error); // a parameter that cannot be copied to the thread (a function, a symbol)
        return;
      }
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject, options });
    });
  }

  #parsersFor(options?: QueryOptions): Parsers {
    const extra = options?.parsers;
    if (!extra) return this.#parsers;
    let merged = this.#merged.get(extra);
    if (!merged) {
      merged = { ...this.#parsers, ...(extra as Parsers) };
      this.#merged.set(extra, merged);
    }
    return merged;
  }

  #parse<T>(r: WireResult, options?: QueryOptions): Results<T> {
    const parsers = this.#parsersFor(options);
    const fields = r.fields;
    const fns = fields.map((f) => parsers[f.dataTypeID] ?? types.parsers[f.dataTypeID]);
    const value = (v: unknown, i: number) =>
      v === null ? null : fns[i] ? fns[i]!(v as string, fields[i]!.dataTypeID) : v;
    const rows =
      options?.rowMode === 'array'
        ? r.rows.map((row) => row.map(value))
        : r.rows.map((row) => Object.fromEntries(row.map((v, i) => [fields[i]!.name, value(v, i)])));
    const out: Record<string, unknown> = { rows, fields, affectedRows: r.affectedRows };
    if (r.command !== undefined) out.command = r.command;
    if (r.rowCount !== undefined) out.rowCount = r.rowCount;
    return out as unknown as Results<T>;
  }

  #check(options?: QueryOptions): void {
    if (options?.serializers || options?.blob || options?.onNotice)
      throw new Error('PGliteRemote: serializers, blob and onNotice options are not supported across threads');
  }

  async query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    options?: QueryOptions,
    tx?: number,
  ): Promise<Results<T>> {
    this.#check(options);
    const r = (await this.#call(
      { op: 'query', sql, params, paramTypes: options?.paramTypes, tx },
      options,
    )) as WireResult;
    return this.#parse<T>(r, options);
  }

  async exec(sql: string, options?: QueryOptions, tx?: number): Promise<Results[]> {
    this.#check(options);
    const rs = (await this.#call({ op: 'exec', sql, tx }, options)) as WireResult[];
    return rs.map((r) => this.#parse(r, options));
  }

  /** As PGlite's: fn's statements run on one transaction, committed when fn resolves, rolled back when it throws. */
  async transaction<T>(fn: (tx: RemoteTransaction) => Promise<T>): Promise<T> {
    const id = ++this.#seq;
    await this.#call({ op: 'begin', tx: id });
    let closed = false;
    const open = () => {
      if (closed) throw new Error('Transaction is closed');
    };
    const tx: RemoteTransaction = {
      query: async (sql, params, options) => {
        open();
        return this.query(sql, params, options, id);
      },
      exec: async (sql, options) => {
        open();
        return this.exec(sql, options, id);
      },
      rollback: async () => {
        open();
        closed = true;
        await this.#call({ op: 'rollback', tx: id });
      },
      get closed() {
        return closed;
      },
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (e) {
      closed = true;
      await this.#call({ op: 'end', tx: id, commit: false }).catch(() => undefined);
      throw e;
    }
    closed = true;
    await this.#call({ op: 'end', tx: id, commit: true });
    return result;
  }

  /** LISTEN on the database; resolves to a function that stops listening. */
  async listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>> {
    const listenId = ++this.#seq;
    this.#listeners.set(listenId, callback);
    try {
      await this.#call({ op: 'listen', channel, listenId });
    } catch (e) {
      this.#listeners.delete(listenId);
      throw e;
    }
    return async () => {
      if (!this.#listeners.delete(listenId) || this.#dead) return;
      await this.#call({ op: 'unlisten', listenId });
    };
  }

  /** The data directory as a tar (test templates). */
  async dumpDataDir(compression?: Compression): Promise<Blob> {
    return new Blob([(await this.#call({ op: 'dump', compression })) as ArrayBuffer]);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the database in its thread (a clean shutdown on disk) and ends the thread. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      if (this.#dead) return;
      const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
      this.#worker.ref(); // until the thread has ended
      const done = this.#call({ op: 'close' });
      this.#closed = true;
      await done;
      await exited;
    })());
  }

  /** Tests only: the thread's ArrayBuffer memory (bytes) and how many full collections it has run itself. */
  async memoryForTest(): Promise<{ arrayBuffers: number; collections: number }> {
    return (await this.#call({ op: 'memory' })) as { arrayBuffers: number; collections: number };
  }

  /** Tests only: makes the thread throw an uncaught error, as a bug in PGlite would. */
  crashForTest(): void {
    this.#worker.postMessage({ id: 0, op: 'crash' });
  }
}
