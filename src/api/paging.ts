// Cursor paging for the API's lists: `limit` rows after an opaque `cursor`, and the `nextCursor` to pass back.
import { z } from 'zod';
import { ApiProblem } from './problem.ts';

export const pagingQuery = {
  cursor: z
    .string()
    .max(6000)
    .optional()
    .meta({ description: 'The nextCursor of the previous page; leave out for the first page.' }),
  limit: z.coerce
    .number({ error: 'Enter a whole number from 1 to 200' })
    .int('Enter a whole number from 1 to 200')
    .min(1, 'Enter a whole number from 1 to 200')
    .max(200, 'Enter a whole number from 1 to 200')
    .default(50)
    .meta({ description: 'Rows per page, 1 to 200 (default 50).' }),
};

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last page.' }),
  });

export const encodeCursor = (values: unknown[]): string => Buffer.from(JSON.stringify(values)).toString('base64url');

const badCursor = () =>
  new ApiProblem(400, 'The cursor is not one this list gave out.', {
    errors: { cursor: 'Use the nextCursor of the previous page' },
  });

/** The values a cursor holds, checked against the types the list orders by; a cursor that does not fit is a 400. */
export function decodeCursor(cursor: string | undefined, types: ('string' | 'date')[]): unknown[] | null {
  if (!cursor) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(raw) || raw.length !== types.length || raw.some((v) => typeof v !== 'string')) throw badCursor();
  return raw.map((v, i) => {
    if (types[i] !== 'date') return v;
    const d = new Date(v as string);
    if (Number.isNaN(d.getTime())) throw badCursor();
    return d;
  });
}

/** Rows after (a, id) in the order (a dir, id dir): the where clause of a keyset page. */
export function after(column: string, dir: 'asc' | 'desc', values: unknown[] | null): Record<string, unknown> {
  if (!values) return {};
  const op = dir === 'asc' ? 'gt' : 'lt';
  return { OR: [{ [column]: { [op]: values[0] } }, { [column]: values[0], id: { [op]: values[1] } }] };
}

/** The page from `limit + 1` rows read: the extra row only says a next page exists. */
export function page<R, J>(rows: R[], limit: number, key: (r: R) => unknown[], json: (r: R) => J) {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    items: shown.map(json),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor(key(last).map((v) => (v instanceof Date ? v.toISOString() : v)))
        : null,
  };
}

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
export const dateTime = z.iso.datetime();
