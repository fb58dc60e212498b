// Named prepared statements for the embedded database's thread (decision 039; opt-in with PGLITE_PREPARED=on: in the
// app it measured no faster, see the decision). PGlite's query() sends every statement
// as the unnamed statement in five calls into WASM (Parse, Describe, Bind, Describe, Execute) plus a Sync: PostgreSQL
// parses and analyses the text again at every call. Here each distinct SQL text is parsed once under a name of its
// own (Parse + Describe, which gives the parameters' types for their serializers), and each call is then one
// Bind/Describe/Execute/Sync buffer: one call into WASM, no parse or analysis. PostgreSQL's plan cache decides per
// statement between a plan made for the call's values and a generic one (plan_cache_mode, see the decision); results
// are the same either way, and they are parsed by PGlite's own parseResults, so callers see what query() returns.
import { messages, parse, protocol, type PGlite, type QueryOptions, type Results } from '@electric-sql/pglite';

const { serialize } = protocol;

interface Statement {
  name: string;
  /** The parameters' type OIDs, as PostgreSQL inferred them (PGlite's query() serializes by them too). */
  paramTypes: number[];
}

/** Concatenates protocol messages into one buffer, so PGlite processes them in one call into WASM. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** PostgreSQL's errors when a prepared statement no longer fits the table it reads, or is gone (re-prepared then). */
const isStale = (e: unknown) =>
  e instanceof messages.DatabaseError &&
  ((e.code === '0A000' && /cached plan must not change result type/.test(e.message)) || e.code === '26000');

/** What PGlite's query() adds to a database error (its makePGliteError, not exported). */
function annotated(e: unknown, query: string, params: unknown[], options?: QueryOptions): unknown {
  if (e instanceof messages.DatabaseError)
    Object.assign(e, { query, params, queryOptions: options } satisfies Record<string, unknown>);
  return e;
}

export class PreparedStatements {
  readonly #pglite: PGlite;
  readonly #max: number;
  /** By SQL text, least recently used first (a Map keeps insertion order; a use moves the entry to the end). */
  readonly #byText = new Map<string, Statement>();
  /** Names evicted from the cache, closed in front of the next buffer sent. */
  #toClose: string[] = [];
  #seq = 0;

  constructor(pglite: PGlite, max = 200) {
    this.#pglite = pglite;
    this.#max = max;
  }

  get size(): number {
    return this.#byText.size;
  }

  /**
   * Runs `sql` as PGlite's query() would, through a named statement. The caller holds PGlite's query lock (and its
   * transaction lock, or is inside a transaction). `inTransaction`: within pglite.transaction() (no sync to disk).
   */
  async query(sql: string, params: unknown[], options: QueryOptions | undefined, inTransaction: boolean) {
    try {
      return await this.#run(sql, params, options, inTransaction);
    } catch (e) {
      if (!isStale(e)) throw annotated(e, sql, params, options);
      this.#forget(sql);
      // Outside a transaction nothing was done: prepare it again. Inside, the transaction has failed anyway.
      if (inTransaction) throw annotated(e, sql, params, options);
      try {
        return await this.#run(sql, params, options, inTransaction);
      } catch (again) {
        throw annotated(again, sql, params, options);
      }
    }
  }

  async #run(sql: string, params: unknown[], options: QueryOptions | undefined, inTransaction: boolean) {
    const pglite = this.#pglite;
    let st = this.#byText.get(sql);
    if (st) {
      this.#byText.delete(sql);
      this.#byText.set(sql, st);
    } else st = await this.#prepare(sql, options);
    const serializers = options?.serializers;
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const oid = st.paramTypes[i]!;
      const ser = serializers?.[oid] ?? pglite.serializers[oid];
      return ser ? ser(v) : (v as { toString(): string }).toString();
    });
    const { messages: replies } = await pglite.execProtocol(
      concat([
        serialize.bind({ statement: st.name, values: values as (string | null)[] }),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
        serialize.sync(),
      ]),
      { syncToFs: false, onNotice: options?.onNotice },
    );
    if (!inTransaction) await pglite.syncToFs();
    return parse.parseResults(replies, pglite.parsers, options)[0] as Results;
  }

  async #prepare(sql: string, options: QueryOptions | undefined): Promise<Statement> {
    const name = `mailroom_${++this.#seq}`;
    const close = this.#toClose.map((n) => serialize.close({ type: 'S', name: n }));
    this.#toClose = [];
    const { messages: replies } = await this.#pglite.execProtocol(
      concat([
        ...close,
        serialize.parse({ name, text: sql, types: options?.paramTypes }),
        serialize.describe({ type: 'S', name }),
        serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const st = { name, paramTypes: parse.parseDescribeStatementResults(replies) };
    this.#byText.set(sql, st);
    if (this.#byText.size > this.#max) {
      const [oldest] = this.#byText.keys();
      this.#forget(oldest!);
    }
    return st;
  }

  #forget(sql: string): void {
    const st = this.#byText.get(sql);
    if (!st) return;
    this.#byText.delete(sql);
    this.#toClose.push(st.name);
  }
}
