// What the list pages that read a page in one SQL statement share (the mailbox list, decision 028; the Emails list,
// decision 032): numbered parameters, literal search patterns, times as plain numbers, the capped count, and a keyset
// list's "past the cursor" as SQL.
import type { RawSql } from '../db/client.ts';
import type { Dir } from './list.ts';

/** Numbered parameters after `values`: `param(v)` adds a value and returns its placeholder ($1, $2, …). */
export function sqlParams(values: unknown[] = []) {
  return { values, param: (v: unknown) => `$${values.push(v)}` };
}
export type SqlParams = ReturnType<typeof sqlParams>;

/** Searched text as the middle of a LIKE pattern: \\, % and _ match themselves (\\ is LIKE's default escape). */
export const likeEscaped = (q: string) => q.replace(/[\\%_]/g, (c) => `\\${c}`);
/**
 * A Prisma filter that finds the searched text anywhere, case-insensitively, taken literally: Prisma puts `contains`
 * between %…% as it is, so without escaping "b_t" or "100%" would match any text around them.
 */
export const containsText = (q: string) => ({ contains: likeEscaped(q), mode: 'insensitive' as const });
/** The pattern of a search that finds its text anywhere (ILIKE), taken literally. */
export const containsPattern = (q: string) => `%${likeEscaped(q)}%`;

/**
 * A search of `pattern` (a parameter) in lower-cased copies of the searched columns (generated columns, `…Lower`):
 * what `column ILIKE pattern` selects — PostgreSQL's ILIKE is lower(text) LIKE lower(pattern) in a UTF-8 database —
 * without lower-casing every row read at every search (5× the match's own cost on PGlite, decision 032).
 */
export const searchSql = (lowered: string[], column: (name: string) => string, pattern: string) =>
  `(${lowered.map((c) => `${column(c)} LIKE lower(${pattern})`).join(' OR ')})`;

/**
 * A time column as epoch milliseconds: a plain number from both drivers (pg would read a timestamp without time zone
 * in the process's zone), made a Date again by `dateOf`.
 */
export const epochMs = (col: string) => `(extract(epoch FROM ${col}) * 1000)::float8`;
export const dateOf = (v: number | null) => (v === null ? null : new Date(v));

/**
 * A page's rows as one JSON array, in `order` (SQL over the statement's FROM items): the statement returns one row
 * whose `rows` column holds them, each an object of `columns` (its key → its SQL), [] when none. One value instead of
 * one per column of every row: on PGlite its reply is parsed, copied to the main thread and converted there once,
 * where each of a page's ≈ 1,000 values cost its own allocations at each of those steps (decision 045); pg parses it
 * with one JSON.parse. Values are JSON's: text, numbers (times as epochMs), booleans, null, and json columns as they
 * are. At most 50 columns (json_build_object takes 100 arguments).
 */
export function jsonRowsSql(columns: Record<string, string>, order: string) {
  const pairs = Object.entries(columns).map(([key, sql]) => `'${key}', ${sql}`);
  return `coalesce(json_agg(json_build_object(${pairs.join(', ')}) ORDER BY ${order}), '[]') AS rows`;
}

/** The number of rows `from` and `where` match, counting at most `limit` of them when given. */
export function countSql(from: string, where: string, limit?: number) {
  return limit === undefined
    ? `SELECT count(*)::int AS n FROM ${from} ${where}`
    : `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${from} ${where} LIMIT ${Math.trunc(limit)}) c`;
}

/**
 * A list's count of `from` and `where` (whose parameters are `params`), capped at `cap` + 1: a page's statement
 * carries it as the column `capped` (`column`, evaluated once) and hands its row to `seen`; web/list.ts then asks
 * `count`, which answers from them, or runs a statement of its own when the page did not carry it.
 */
export function cappedCount(sql: RawSql, from: string, where: string, params: unknown[], cap: number) {
  let counted: number | undefined;
  return {
    column: `, (${countSql(from, where, cap + 1)}) AS capped`,
    seen(row: { capped?: number | string } | undefined) {
      if (row?.capped !== undefined && row.capped !== null) counted = Number(row.capped);
    },
    async count(upTo?: number) {
      if (upTo === cap + 1 && counted !== undefined) return counted;
      const [row] = await sql.query<{ n: number | string }>(countSql(from, where, upTo), params);
      return Number(row.n);
    },
  };
}

/** An ORDER BY list from a keyset order (`column` gives each column's SQL). */
export const orderSql = (order: [string, Dir][], column: (name: string) => string) =>
  order.map(([c, d]) => `${column(c)} ${d === 'asc' ? 'ASC' : 'DESC'}`).join(', ');

/**
 * The rows after the cursor `values` in `order`, as SQL: (a < x) OR (a = x AND b < y) …, with the first column also
 * bounded on its own (a <= x) so the database walks an index on it from the cursor — web/list.ts's pastWhere in SQL.
 * Dates are passed as ISO text (the column's type reads them), so both drivers send the same.
 */
export function pastSql(order: [string, Dir][], values: unknown[], column: (name: string) => string, p: SqlParams) {
  const at = values.map((v) => p.param(v instanceof Date ? v.toISOString() : v));
  const op = (dir: Dir, strict: boolean) => `${dir === 'desc' ? '<' : '>'}${strict ? '' : '='}`;
  const or = order.map(([c, d], i) =>
    [...order.slice(0, i).map(([e], j) => `${column(e)} = ${at[j]}`), `${column(c)} ${op(d, true)} ${at[i]}`].join(
      ' AND ',
    ),
  );
  return `${column(order[0][0])} ${op(order[0][1], false)} ${at[0]} AND (${or.map((s) => `(${s})`).join(' OR ')})`;
}
