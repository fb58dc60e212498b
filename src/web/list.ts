// One convention for every list page (profiles, mailboxes, users, audit log; emails next): the query string
// `?q=…&<filters>&sort=…&dir=…&page=…` with defaults left out, and paging that reads one row past the page
// instead of counting every match, counting at most COUNT_CAP rows ("1–50 of 5,000+").
// A feature declares its sorts and filters with defineList and hands `read` its Prisma queries.
import type { z } from 'zod';

export type Dir = 'asc' | 'desc';
export const PAGE_SIZE = 50;
/** Counting stops here: beyond it a list says "5,000+", so a big table's count costs what a small one's does. */
export const COUNT_CAP = 5_000;
/** Larger page numbers are read as this one, and then as the last page (see read). */
export const MAX_PAGE = 100_000;

const RESERVED = ['q', 'sort', 'dir', 'page'];

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
}

export type ListQuery<K extends string = string, F extends FilterSchemas = Record<never, never>> = {
  q: string;
  sort: K;
  dir: Dir;
  page: number;
} & FilterValues<F>;

/** What a list reads from the database: one window of rows in order, and a count that may stop early. */
export interface ListSource<O, R> {
  rows(window: { skip: number; take: number; orderBy: O[] }): Promise<R[]>;
  /** The number of matching rows, counting at most `upTo` of them (all when undefined). */
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
  read<R>(l: ListQuery<K, F>, source: ListSource<O, R>): Promise<ListPage<R, ListQuery<K, F>>>;
}

export type QueryOf<D> = D extends ListDef<infer _O, infer K, infer F> ? ListQuery<K, F> : never;

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

/** A page number from a query value: digits only, at least 1, at most MAX_PAGE. */
export function pageParam(value: unknown): number {
  const s = str(value);
  if (!/^\d+$/.test(s)) return 1;
  return Math.min(Math.max(Number(s), 1), MAX_PAGE);
}

export function defineList<O, K extends string, F extends FilterSchemas = Record<never, never>>(
  spec: ListSpec<O, K, F>,
): ListDef<O, K, F> {
  const filters = Object.entries(spec.filters ?? {}) as [string, z.ZodType<string>][];
  const clash = filters.find(([name]) => RESERVED.includes(name));
  if (clash) throw new Error(`List filter "${clash[0]}" clashes with a list parameter`);
  const pageSize = spec.pageSize ?? PAGE_SIZE;
  const cap = spec.countCap ?? COUNT_CAP;
  const firstDir = (k: K): Dir => spec.sorts[k].first ?? 'asc';
  const isSort = (v: string): v is K => Object.hasOwn(spec.sorts, v);
  type Q = ListQuery<K, F>;

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
    return {
      q,
      ...values,
      sort,
      dir: dir === 'asc' || dir === 'desc' ? dir : firstDir(sort),
      page: pageParam(query.page),
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

  const href = (l: Q, change: Partial<Q> = {}): string => {
    const page = change.page ?? 1;
    const p = new URLSearchParams(params(l, change));
    if (page > 1) p.set('page', String(page));
    return `?${p}`;
  };

  const orderBy = (l: Q): O[] => [...spec.sorts[l.sort].orderBy(l.dir), ...spec.tiebreak];

  const read = async <R>(l: Q, source: ListSource<O, R>): Promise<ListPage<R, Q>> => {
    const skip = (l.page - 1) * pageSize;
    const got = await source.rows({ skip, take: pageSize + 1, orderBy: orderBy(l) });
    if (!got.length && l.page > 1) {
      // Past the end (an old link, a typed page number): show the last page rather than an empty one.
      const last = Math.max(1, Math.ceil((await source.count()) / pageSize));
      return read({ ...l, page: Math.min(last, l.page - 1) }, source);
    }
    const rows = got.slice(0, pageSize);
    const hasNext = got.length > pageSize;
    const to = skip + rows.length;
    const page = { query: l, rows, from: rows.length ? skip + 1 : 0, to, hasNext };
    const exact = (total: number) => ({ ...page, total, exact: true, pages: Math.max(1, Math.ceil(total / pageSize)) });
    if (!hasNext) return exact(to); // the last page: all rows before it, and its own
    // Counting could only tell "more than the cap" here: rows past this page exist, which says as much.
    if (to >= cap) return { ...page, total: to, exact: false, pages: null };
    const counted = await source.count(cap + 1);
    if (counted > cap) return { ...page, total: cap, exact: false, pages: null };
    return exact(Math.max(counted, to + 1));
  };

  return { spec, pageSize, parse, params, href, orderBy, read };
}
