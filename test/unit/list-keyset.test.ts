// Keyset paging in the one list module (web/list.ts readKeyset): Next and Previous walk every row once in order (ties
// broken by id), cursors that do not fit the list are ignored, and a deep page reads what page 1 reads. Rows come
// from an in-memory table that applies the where clause the list builds, so its meaning is what is tested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineList, type KeysetSource } from '../../src/web/list.ts';
import { pager } from '../../src/web/list-view.ts';

type Row = { id: string; at: Date; name: string };
type Order = Record<string, 'asc' | 'desc'>;

const rowsList = defineList<Order, 'at' | 'name'>({
  sorts: {
    at: { label: 'Time', first: 'desc', orderBy: (d) => [{ at: d }] },
    name: { label: 'Name', orderBy: (d) => [{ name: d }] },
  },
  defaultSort: 'at',
  tiebreak: [{ id: 'desc' }],
  pageSize: 10,
  countCap: 45,
  keyset: { at: 'date', name: 'string', id: 'string' },
});

type Cond = Record<string, unknown>;
/** Evaluates the list's where clause ({ AND }, { OR }, { column: value }, { column: { lt|gt|lte|gte } }) on a row. */
function matches(row: Row, where: Cond): boolean {
  return Object.entries(where).every(([key, value]) => {
    if (key === 'AND') return (value as Cond[]).every((w) => matches(row, w));
    if (key === 'OR') return (value as Cond[]).some((w) => matches(row, w));
    const a = row[key as keyof Row];
    const cmp = (b: unknown) => (a < (b as typeof a) ? -1 : a > (b as typeof a) ? 1 : 0);
    if (value instanceof Date || typeof value !== 'object') return cmp(value) === 0;
    const [[op, b]] = Object.entries(value as object);
    return { lt: cmp(b) < 0, gt: cmp(b) > 0, lte: cmp(b) <= 0, gte: cmp(b) >= 0 }[op] ?? false;
  });
}

/** n rows; times repeat in threes and names in fives, so the id tiebreak matters. Records the queries it served. */
function table(n: number) {
  const all: Row[] = Array.from({ length: n }, (_, i) => ({
    id: `id-${String(i).padStart(4, '0')}`,
    at: new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 3) * 60_000),
    name: `name ${Math.floor(i / 5)}`,
  }));
  const calls: string[] = [];
  const src: KeysetSource<Order, Row> & { calls: string[]; all: Row[] } = {
    calls,
    all,
    rows: async ({ past, take, orderBy }) => {
      calls.push(`rows${past ? ' past' : ''} ${take}`);
      const sorted = all
        .filter((r) => !past || matches(r, past))
        .sort((x, y) => {
          for (const o of orderBy) {
            const [[column, dir]] = Object.entries(o);
            const [a, b] = [x[column as keyof Row], y[column as keyof Row]];
            if (a < b) return dir === 'asc' ? -1 : 1;
            if (a > b) return dir === 'asc' ? 1 : -1;
          }
          return 0;
        });
      return sorted.slice(0, take);
    },
    count: async (upTo) => {
      calls.push(`count ${upTo ?? 'all'}`);
      return upTo === undefined ? all.length : Math.min(all.length, upTo);
    },
  };
  return src;
}

const follow = (href: string) => rowsList.parse(Object.fromEntries(new URLSearchParams(href)));

for (const sort of ['at', 'name'] as const)
  for (const dir of ['asc', 'desc'] as const)
    test(`Next then Previous visit every row once, in order (${sort} ${dir})`, async () => {
      const src = table(47);
      const expected = [...src.all]
        .sort((x, y) => {
          const [a, b] = [x[sort], y[sort]];
          if (a < b) return dir === 'asc' ? -1 : 1;
          if (a > b) return dir === 'asc' ? 1 : -1;
          return x.id < y.id ? 1 : -1; // tiebreak id desc
        })
        .map((r) => r.id);
      const pages: string[][] = [];
      let l = rowsList.parse({ sort, dir });
      for (;;) {
        const page = await rowsList.readKeyset(l, src);
        pages.push(page.rows.map((r) => r.id));
        assert.equal(page.from, (pages.length - 1) * 10 + 1, 'rows are numbered by position');
        const next = pager(rowsList, page).next;
        if (!next) break;
        assert.match(next, /after=/);
        l = follow(next);
      }
      assert.deepEqual(pages.flat(), expected);
      assert.equal(pages.length, 5);
      // And back: each Previous shows the page seen before it, down to page 1 (a link without a cursor).
      for (let i = pages.length - 1; i > 0; i--) {
        const page = await rowsList.readKeyset(l, src);
        assert.deepEqual(
          page.rows.map((r) => r.id),
          pages[i],
        );
        const prev = pager(rowsList, page).prev;
        assert.ok(prev);
        if (i === 1) assert.doesNotMatch(prev, /before=|page=/, 'page 1 has a plain link');
        l = follow(prev);
      }
      assert.deepEqual(
        (await rowsList.readKeyset(l, src)).rows.map((r) => r.id),
        pages[0],
      );
    });

test('a deep page reads one window past its cursor and counts nothing, as page 1 reads one window', async () => {
  const src = table(1000);
  let l = rowsList.parse({});
  for (let i = 0; i < 60; i++) l = follow(pager(rowsList, await rowsList.readKeyset(l, src)).next ?? '');
  src.calls.length = 0;
  const deep = await rowsList.readKeyset(l, src);
  assert.equal(deep.query.page, 61);
  assert.deepEqual(src.calls, ['rows past 11'], 'no count past the cap: "601–610 of 610+"');
  assert.equal(pager(rowsList, deep).summary, '601–610 of 610+');
  assert.equal(pager(rowsList, deep).label, 'Page 61');
});

test('cursors that do not fit the list are ignored: another sort, wrong types, garbage', async () => {
  const src = table(30);
  const p1 = await rowsList.readKeyset(rowsList.parse({}), src);
  const next = follow(pager(rowsList, p1).next ?? '');
  assert.ok(next.after);
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const bad = [
    next.after, // made for the Time order, used with Name
    enc(['name', 'asc', 5, 'id-0001']),
    enc(['name', 'asc', { $gt: '' }, 'id-0001']),
    enc(['name', 'asc', 'x']),
    enc({ a: 1 }),
    'not json at all',
    '!!',
  ];
  for (const after of bad) {
    const page = await rowsList.readKeyset(rowsList.parse({ sort: 'name', dir: 'asc', after, page: '2' }), src);
    assert.equal(page.query.page, 1, String(after));
    assert.deepEqual(
      page.rows.map((r) => r.id),
      (await rowsList.readKeyset(rowsList.parse({ sort: 'name', dir: 'asc' }), src)).rows.map((r) => r.id),
    );
  }
  const time = enc(['at', 'desc', '2026-01-01 00:00', 'id-0001']);
  assert.equal((await rowsList.readKeyset(rowsList.parse({ after: time, page: '2' }), src)).query.page, 1);
});

test('a cursor past the end shows the page that ends there; an order a cursor cannot hold is refused at definition', async () => {
  const src = table(25);
  const p1 = await rowsList.readKeyset(rowsList.parse({}), src);
  const p2 = follow(pager(rowsList, p1).next ?? '');
  const shown = new Set(p1.rows.map((r) => r.id));
  src.all.splice(0, src.all.length, ...src.all.filter((r) => shown.has(r.id))); // every row after page 1 went away
  const page = await rowsList.readKeyset(p2, src);
  assert.equal(page.query.page, 1);
  assert.deepEqual(page.rows, p1.rows);
  assert.equal(pager(rowsList, page).next, null);
  assert.throws(
    () =>
      defineList<Record<string, unknown>, 'owner'>({
        sorts: { owner: { label: 'Owner', orderBy: (d) => [{ owner: { name: d } }] } },
        defaultSort: 'owner',
        tiebreak: [{ id: 'asc' }],
        keyset: { id: 'string' },
      }),
    /declared scalar columns/,
  );
});
