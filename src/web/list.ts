// One convention for every list page (profiles, mailboxes, users, audit log, emails, alerts): the query string
// `?q=…&<filters>&sort=…&dir=…&page=…` with defaults left out, and paging that reads one row past the page
// instead of counting every match, counting at most COUNT_CAP rows ("1–50 of 5,000+").
// A feature declares its sorts and filters with defineList and hands `read` its Prisma queries. A list of a table
// that grows without bound (emails, alerts) declares `keyset` and pages with cursors instead (`readKeyset`,
// decision 014): a deep page then costs what the first does.
import type { z } from 'zod';

export type Dir = 'asc' | 'desc';
export const PAGE_SIZE = 50;
/** Counting stops here: beyond it a list says "5,000+", so a big table's count costs what a small one's does. */
export const COUNT_CAP = 5_000;
/** Larger page numbers are read as this one, and then as the last page (see read). */
export const MAX_PAGE = 100_000;

const RESERVED = ['q', 'sort', 'dir', 'page', 'after', 'before'];

export interface SortSpec<O> {
  /** The column header's label. */
  label: string;
  /** The direction of the first click on the column: counts and dates read best newest or largest first. */
  first?: Dir;
  orderBy: (dir: Dir) => O[];
}

/** Filters arrive as strings and stay strings (a uuid, an enum value, a date), so links can carry them back. */
export type FilterSchemas = Record<string, z.ZodType<string>>;
export type FilterValues<F extends FilterSchemas> = { [P in keyof F]: z.output<F[P]> | null };

export interface ListSpec<O, K extends string, F extends FilterSchemas> {
  sorts: Record<K, SortSpec<O>>;
  defaultSort: NoInfer<K>;
  /** Appended to every order so rows with equal sort values keep one order from page to page (ends in an id). */
  tiebreak: O[];
  filters?: F;
  /** Longest search text kept; 0 or absent: the list has no search box and ignores `q`. */
  searchMax?: number;
  pageSize?: number;
  countCap?: number;
  /**
   * Counting stops here instead when the list is searched (`q`): a text search's count tests each row it reads, and
   * a common word is found in one row of several, so its count reads several times the cap in rows (decision 045).
   */
  searchCountCap?: number;
  /**
   * Keyset paging: the type of every column the sorts and the tiebreak order by. Each order entry must then be one
   * scalar column (`{ column: dir }`), and the list is read with `readKeyset`.
   */
  keyset?: Record<string, KeyType>;
}

/** The scalar type of a keyset column, so a cursor that comes back from the address bar is checked before use. */
export type KeyType = 'date' | 'string' | 'number';

export type ListQuery<K extends string = string, F extends FilterSchemas = Record<never, never>> = {
  q: string;
  sort: K;
  dir: Dir;
  page: number;
  /** Keyset lists only: the cursor of the row this page continues after (Next) or ends before (Previous). */
  after?: string | null;
  before?: string | null;
} & FilterValues<F>;

/** What a list reads from the database: one window of rows in order, and a count that may stop early. */
export interface ListSource<O, R> {
  rows(window: { skip: number; take: number; orderBy: O[] }): Promise<R[]>;
  /** The number of matching rows, counting at most `upTo` of them (all when undefined). */
  count(upTo?: number): Promise<number>;
}

/**
 * What a keyset list reads: rows in order past a cursor, and a count. The window says it twice: in Prisma's terms
 * (`past`, a where clause, and `orderBy`) and as plain columns (`order`, each column with its direction, reversed
 * when reading backwards, and `cursor`, the values of the row to continue after in that order) for a source in SQL.
 */
export interface KeysetSource<O, R> {
  rows(window: {
    past: Record<string, unknown> | null;
    take: number;
    orderBy: O[];
    order: [column: string, dir: Dir][];
    cursor: unknown[] | null;
  }): Promise<R[]>;
  count(upTo?: number): Promise<number>;
}

export interface ListPage<R, Q> {
  /** The query as shown: a page past the end becomes the last page. */
  query: Q;
  rows: R[];
  /** 1-based positions of the first and last row shown; 0 and 0 when there are none. */
  from: number;
  to: number;
  /** The number of matching rows when `exact`; otherwise more rows than this match. */
  total: number;
  exact: boolean;
  /** Known only when the total is exact. */
  pages: number | null;
  hasNext: boolean;
  /** Keyset lists: the cursors of the first row (for Previous, absent on the first page) and the last (for Next). */
  cursors?: { before: string | null; after: string | null };
}

export interface ListDef<O, K extends string, F extends FilterSchemas> {
  readonly spec: ListSpec<O, K, F>;
  readonly pageSize: number;
  /** Reads a request's query: unknown sorts, directions, filters and pages fall back to the defaults. */
  parse(query: Record<string, unknown>): ListQuery<K, F>;
  /** The query string parameters of a list, defaults left out and without the page (for hidden form fields). */
  params(l: ListQuery<K, F>, change?: Partial<ListQuery<K, F>>): [string, string][];
  /** A link to this list with some values changed; the page goes back to 1 unless `change` names one. */
  href(l: ListQuery<K, F>, change?: Partial<ListQuery<K, F>>): string;
  orderBy(l: ListQuery<K, F>): O[];
  /** Where counting stops for this query ("1–50 of 5,000+"): countCap, or searchCountCap for a search. */
  countCap(l: ListQuery<K, F>): number;
  read<R>(l: ListQuery<K, F>, source: ListSource<O, R>): Promise<ListPage<R, ListQuery<K, F>>>;
  /** Keyset lists only. `page` is then the page's position, carried in links to number the rows shown. */
  readKeyset<R extends object>(l: ListQuery<K, F>, source: KeysetSource<O, R>): Promise<ListPage<R, ListQuery<K, F>>>;
}

export type QueryOf<D> = D extends ListDef<infer _O, infer K, infer F> ? ListQuery<K, F> : never;

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

/** A page number from a query value: digits only, at least 1, at most MAX_PAGE. */
export function pageParam(value: unknown): number {
  const s = str(value);
  if (!/^\d+$/.test(s)) return 1;
  return Math.min(Math.max(Number(s), 1), MAX_PAGE);
}

/** A keyset cursor from a query value: base64url, of a sane length; anything else is no cursor. */
function cursorParam(value: unknown): string | null {
  const s = str(value);
  return /^[A-Za-z0-9_-]{1,6000}$/.test(s) ? s : null;
}

type Field = [column: string, dir: Dir];

/** The columns of a keyset order, checked: each entry one declared scalar column with a direction. */
function keyFields(order: unknown[], types: Record<string, KeyType>): Field[] {
  return order.map((o) => {
    const entries = Object.entries(o as object);
    const [column, dir] = entries[0] ?? [];
    if (entries.length !== 1 || !Object.hasOwn(types, column) || (dir !== 'asc' && dir !== 'desc'))
      throw new Error(`Keyset lists order by declared scalar columns only, got ${JSON.stringify(o)}`);
    return [column, dir];
  });
}

const encodeValue = (v: unknown) => (v instanceof Date ? v.toISOString() : v);

function decodeValue(v: unknown, type: KeyType): unknown {
  if (type === 'date') {
    if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v)) return undefined;
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  if (type === 'number') return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  return typeof v === 'string' ? v : undefined;
}

/**
 * The rows past `values` in the order `fields` (or before them, `back`), as a where clause: (a < x) OR (a = x AND
 * b < y) … With the first column also bounded on its own (a <= x), so the database walks an index on it from the
 * cursor instead of filtering from the start.
 */
function pastWhere(fields: Field[], values: unknown[], back: boolean): Record<string, unknown> {
  const op = (dir: Dir, strict: boolean) => {
    const forward = (dir === 'desc') !== back ? 'lt' : 'gt';
    return strict ? forward : `${forward}e`;
  };
  const or = fields.map(([column, dir], i) => ({
    AND: [...fields.slice(0, i).map(([c], j) => ({ [c]: values[j] })), { [column]: { [op(dir, true)]: values[i] } }],
  }));
  const [first, dir] = fields[0];
  return { AND: [{ [first]: { [op(dir, false)]: values[0] } }, { OR: or }] };
}

export function defineList<O, K extends string, F extends FilterSchemas = Record<never, never>>(
  spec: ListSpec<O, K, F>,
): ListDef<O, K, F> {
  const filters = Object.entries(spec.filters ?? {}) as [string, z.ZodType<string>][];
  const clash = filters.find(([name]) => RESERVED.includes(name));
  if (clash) throw new Error(`List filter "${clash[0]}" clashes with a list parameter`);
  const pageSize = spec.pageSize ?? PAGE_SIZE;
  const listCap = spec.countCap ?? COUNT_CAP;
  const countCap = (l: { q: string }) => (l.q && spec.searchCountCap !== undefined ? spec.searchCountCap : listCap);
  const firstDir = (k: K): Dir => spec.sorts[k].first ?? 'asc';
  const isSort = (v: string): v is K => Object.hasOwn(spec.sorts, v);
  type Q = ListQuery<K, F>;

  const orderBy = (l: Q): O[] => [...spec.sorts[l.sort].orderBy(l.dir), ...spec.tiebreak];
  const keyset = spec.keyset;
  // A keyset list that orders by something a cursor cannot hold fails at start-up, not on some user's page 2.
  if (keyset)
    for (const k of Object.keys(spec.sorts) as K[])
      for (const dir of ['asc', 'desc'] as const) keyFields(orderBy({ sort: k, dir } as Q), keyset);

  const parse = (query: Record<string, unknown>): Q => {
    const asked = str(query.sort);
    const sort = isSort(asked) ? asked : spec.defaultSort;
    const dir = str(query.dir);
    const values: Record<string, string | null> = {};
    for (const [name, schema] of filters) {
      const raw = str(query[name]);
      const parsed = raw ? schema.safeParse(raw) : null;
      values[name] = parsed?.success ? parsed.data : null;
    }
    const q = spec.searchMax ? str(query.q).slice(0, spec.searchMax).trim() : '';
    const after = keyset ? cursorParam(query.after) : null;
    return {
      q,
      ...values,
      sort,
      dir: dir === 'asc' || dir === 'desc' ? dir : firstDir(sort),
      page: pageParam(query.page),
      ...(keyset ? { after, before: after ? null : cursorParam(query.before) } : {}),
    } as Q;
  };

  const params = (l: Q, change: Partial<Q> = {}): [string, string][] => {
    const v = { ...l, ...change } as Q & Record<string, unknown>;
    const out: [string, string][] = [];
    if (v.q) out.push(['q', v.q]);
    for (const [name] of filters) if (typeof v[name] === 'string' && v[name]) out.push([name, v[name] as string]);
    if (v.sort !== spec.defaultSort || v.dir !== firstDir(spec.defaultSort)) out.push(['sort', v.sort], ['dir', v.dir]);
    return out;
  };

  /** Page and cursor come only from `change`: any other change starts the list again at its first page. */
  const href = (l: Q, change: Partial<Q> = {}): string => {
    const page = change.page ?? 1;
    const p = new URLSearchParams(params(l, change));
    if (page > 1 && change.after) p.set('after', change.after);
    else if (page > 1 && change.before) p.set('before', change.before);
    if (page > 1) p.set('page', String(page));
    return `?${p}`;
  };

  /** Numbers the rows of a page and says how many match, counting only when that can tell more than the page. */
  const finish = async <R>(
    l: Q,
    got: R[],
    count: (upTo?: number) => Promise<number>,
    extra: Partial<ListPage<R, Q>> = {},
  ): Promise<ListPage<R, Q>> => {
    const skip = (l.page - 1) * pageSize;
    const rows = got.slice(0, pageSize);
    const hasNext = extra.hasNext ?? got.length > pageSize;
    const to = skip + rows.length;
    const page = { query: l, rows, from: rows.length ? skip + 1 : 0, to, ...extra, hasNext };
    const exact = (total: number) => ({ ...page, total, exact: true, pages: Math.max(1, Math.ceil(total / pageSize)) });
    const cap = countCap(l);
    if (!hasNext) return exact(to); // the last page: all rows before it, and its own
    // Counting could only tell "more than the cap" here: rows past this page exist, which says as much.
    if (to >= cap) return { ...page, total: to, exact: false, pages: null };
    const counted = await count(cap + 1);
    if (counted > cap) return { ...page, total: cap, exact: false, pages: null };
    return exact(Math.max(counted, to + 1));
  };

  const read = async <R>(l: Q, source: ListSource<O, R>): Promise<ListPage<R, Q>> => {
    const skip = (l.page - 1) * pageSize;
    const got = await source.rows({ skip, take: pageSize + 1, orderBy: orderBy(l) });
    if (!got.length && l.page > 1) {
      // Past the end (an old link, a typed page number): show the last page rather than an empty one.
      const last = Math.max(1, Math.ceil((await source.count()) / pageSize));
      return read({ ...l, page: Math.min(last, l.page - 1) }, source);
    }
    return finish(l, got, (upTo) => source.count(upTo));
  };

  const readKeyset = async <R extends object>(l: Q, source: KeysetSource<O, R>): Promise<ListPage<R, Q>> => {
    if (!keyset) throw new Error('readKeyset needs a list declared with keyset');
    const order = orderBy(l);
    const fields = keyFields(order, keyset);
    const cursorOf = (row: R): string => {
      const values = fields.map(([column]) => encodeValue((row as Record<string, unknown>)[column]));
      return Buffer.from(JSON.stringify([l.sort, l.dir, ...values])).toString('base64url');
    };
    /** The cursor's values when it was made for this sort and holds the right types; otherwise null. */
    const valuesOf = (cursor: string | null | undefined): unknown[] | null => {
      if (!cursor) return null;
      let raw: unknown;
      try {
        raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      } catch {
        return null;
      }
      if (!Array.isArray(raw) || raw.length !== fields.length + 2 || raw[0] !== l.sort || raw[1] !== l.dir) return null;
      const values = fields.map(([column], i) => decodeValue(raw[i + 2], keyset[column]));
      return values.includes(undefined) ? null : values;
    };
    const first = { ...l, page: 1, after: null, before: null };
    const withCursors = (q: Q, got: R[]) => {
      const rows = got.slice(0, pageSize);
      return {
        cursors: {
          before: q.page > 1 && rows.length ? cursorOf(rows[0]) : null,
          after: got.length > pageSize ? cursorOf(rows[rows.length - 1]) : null,
        },
      };
    };
    const count = (upTo?: number) => source.count(upTo);

    const after = valuesOf(l.after);
    const before = valuesOf(l.before);
    if (before) {
      const back = fields.map(([column, dir]): Field => [column, dir === 'asc' ? 'desc' : 'asc']);
      const reversed = back.map(([column, dir]) => ({ [column]: dir }) as O);
      const got = await source.rows({
        past: pastWhere(fields, before, true),
        take: pageSize + 1,
        orderBy: reversed,
        order: back,
        cursor: before,
      });
      // Nothing (or not a page) before it: this is the start of the list.
      if (got.length <= pageSize) return readKeyset(first, source);
      const rows = got.slice(0, pageSize).reverse();
      const q = { ...l, page: Math.max(2, l.page), before: null };
      // The cursor's row follows this page, so there is a next page.
      return finish(q, rows, count, {
        hasNext: true,
        cursors: { before: cursorOf(rows[0]), after: cursorOf(rows[rows.length - 1]) },
      });
    }
    if (after) {
      const got = await source.rows({
        past: pastWhere(fields, after, false),
        take: pageSize + 1,
        orderBy: order,
        order: fields,
        cursor: after,
      });
      // Past the end (the rows after it went away): show the page that ends at the cursor instead.
      if (!got.length) return readKeyset({ ...l, after: null, before: l.after, page: Math.max(1, l.page - 1) }, source);
      const q = { ...l, page: Math.max(2, l.page), after: null };
      return finish(q, got, count, withCursors(q, got));
    }
    const got = await source.rows({ past: null, take: pageSize + 1, orderBy: order, order: fields, cursor: null });
    return finish(first, got, count, withCursors(first, got));
  };

  return { spec, pageSize, parse, params, href, orderBy, countCap, read, readKeyset };
}
