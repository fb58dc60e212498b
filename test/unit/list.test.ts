// The one list module (web/list.ts, web/list-view.ts): query parsing and clamping, canonical links, sort headers,
// paging that counts at most a cap, and the past-the-end page. Rows come from an in-memory source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineList, pageParam, MAX_PAGE, type ListQuery, type ListSource } from '../../src/web/list.ts';
import { columns, listView, pager, searchForm, totalLabel } from '../../src/web/list-view.ts';

type Order = { by: string; dir: 'asc' | 'desc' };
const things = defineList<
  Order,
  'name' | 'size',
  { kind: z.ZodEnum<{ big: 'big'; small: 'small' }>; owner: z.ZodUUID }
>({
  sorts: {
    name: { label: 'Name', orderBy: (dir) => [{ by: 'name', dir }] },
    size: { label: 'Size', first: 'desc', orderBy: (dir) => [{ by: 'size', dir }] },
  },
  defaultSort: 'name',
  tiebreak: [{ by: 'id', dir: 'asc' }],
  filters: { kind: z.enum(['big', 'small']), owner: z.uuid() },
  searchMax: 10,
  pageSize: 10,
  countCap: 45,
});
type Q = ListQuery<'name' | 'size', { kind: z.ZodEnum<{ big: 'big'; small: 'small' }>; owner: z.ZodUUID }>;
const UUID = '3f2c8a8e-5b1d-4c6e-9f0a-1b2c3d4e5f60';

/** n rows 1..n; records every query so tests can see which ones ran. */
function source(n: number) {
  const calls: string[] = [];
  const src: ListSource<Order, number> & { calls: string[] } = {
    calls,
    rows: async ({ skip, take, orderBy }) => {
      calls.push(`rows ${skip}+${take} ${orderBy.map((o) => `${o.by}:${o.dir}`).join(',')}`);
      return Array.from({ length: n }, (_, i) => i + 1).slice(skip, skip + take);
    },
    count: async (upTo) => {
      calls.push(`count ${upTo ?? 'all'}`);
      return upTo === undefined ? n : Math.min(n, upTo);
    },
  };
  return src;
}

test('parse: defaults, and bad input of every kind falls back to them', () => {
  assert.deepEqual(things.parse({}), { q: '', kind: null, owner: null, sort: 'name', dir: 'asc', page: 1 });
  const bad = things.parse({
    q: ['a', 'b'],
    kind: 'huge',
    owner: 'not-a-uuid',
    sort: 'toString',
    dir: 'sideways',
    page: '2.5',
  });
  assert.deepEqual(bad, { q: '', kind: null, owner: null, sort: 'name', dir: 'asc', page: 1 });
  for (const sort of ['__proto__', 'constructor', 'hasOwnProperty', 'NAME', ''])
    assert.equal(things.parse({ sort }).sort, 'name', sort);
  assert.equal(things.parse({ sort: { name: 1 } }).sort, 'name');
  assert.deepEqual(
    things.parse({ q: '  a long search text  ', kind: ' big ', owner: UUID.toUpperCase() }),
    { q: 'a long sea', kind: 'big', owner: UUID.toUpperCase(), sort: 'name', dir: 'asc', page: 1 },
    'q trimmed and cut to searchMax',
  );
  assert.equal(things.parse({ sort: 'size' }).dir, 'desc', 'a column without a direction starts with its first one');
  assert.equal(things.parse({ sort: 'size', dir: 'asc' }).dir, 'asc');
  assert.equal(
    things.parse({ sort: 'bogus', dir: 'desc' }).dir,
    'desc',
    'a valid direction is kept for the default sort',
  );
});

test('pageParam: digits only, at least 1, at most MAX_PAGE', () => {
  const cases: [unknown, number][] = [
    ['2', 2],
    [' 7 ', 7],
    ['0', 1],
    ['-3', 1],
    ['1.5', 1],
    ['1e3', 1],
    ['0x10', 1],
    ['abc', 1],
    ['', 1],
    [undefined, 1],
    [['2'], 1],
    [3, 1],
    [String(MAX_PAGE), MAX_PAGE],
    [String(MAX_PAGE + 1), MAX_PAGE],
    ['9'.repeat(400), MAX_PAGE],
  ];
  for (const [input, want] of cases) assert.equal(pageParam(input), want, JSON.stringify(input));
});

test('a search with no searchMax is ignored; filters may not reuse the list parameters', () => {
  const plain = defineList<Order, 'name'>({
    sorts: { name: { label: 'Name', orderBy: (dir) => [{ by: 'name', dir }] } },
    defaultSort: 'name',
    tiebreak: [],
  });
  assert.equal(plain.parse({ q: 'x' }).q, '');
  assert.throws(
    () =>
      defineList<Order, 'name', { page: z.ZodString }>({
        sorts: { name: { label: 'Name', orderBy: (dir) => [{ by: 'name', dir }] } },
        defaultSort: 'name',
        tiebreak: [],
        filters: { page: z.string() },
      }),
    /clashes/,
  );
});

test('href: one canonical query string (q, filters, sort+dir, page), defaults left out, page back to 1 on a change', () => {
  const l = things.parse({});
  assert.equal(things.href(l), '?');
  const full = things.parse({ q: 'a&b c', owner: UUID, kind: 'small', sort: 'size', dir: 'asc', page: '4' });
  assert.equal(things.href(full), `?q=a%26b+c&kind=small&owner=${UUID}&sort=size&dir=asc`);
  assert.equal(things.href(full, { page: 5 }), `?q=a%26b+c&kind=small&owner=${UUID}&sort=size&dir=asc&page=5`);
  assert.equal(things.href(full, { owner: null, kind: null, q: '' }), '?sort=size&dir=asc');
  assert.equal(
    things.href(full, { sort: 'name', dir: 'asc' }),
    `?q=a%26b+c&kind=small&owner=${UUID}`,
    'the default sort is left out',
  );
  assert.equal(things.href(l, { dir: 'desc' }), '?sort=name&dir=desc', 'the default column reversed names both');
  assert.equal(things.href(l, { page: 1 }), '?');
  for (const page of [2, 17])
    assert.deepEqual(things.parse(Object.fromEntries(new URLSearchParams(things.href(full, { page })))), {
      ...full,
      page,
    });
});

test('columns: the sorted column reverses and carries aria-sort; others start in their first direction', () => {
  const l = things.parse({ q: 'x' });
  const [name, size, plain, select] = columns(things, l, [
    'name',
    'size',
    { label: 'Owner' },
    { label: 'Select', srOnly: true },
  ]);
  assert.deepEqual(name, { label: 'Name', href: '?q=x&sort=name&dir=desc', ariaSort: 'ascending', arrow: '▲' });
  assert.deepEqual(size, { label: 'Size', href: '?q=x&sort=size&dir=desc' });
  assert.deepEqual(plain, { label: 'Owner', srOnly: undefined });
  assert.deepEqual(select, { label: 'Select', srOnly: true });
  const [byName, bySize] = columns(things, things.parse({ sort: 'size', dir: 'desc' }), ['name', 'size']);
  assert.equal(byName.href, '?', 'back to the default order');
  assert.deepEqual(bySize, { label: 'Size', href: '?sort=size&dir=asc', ariaSort: 'descending', arrow: '▼' });
});

test('read: one row past the page says whether there is a next page; the last page needs no count', async () => {
  const src = source(25);
  const p1 = await things.read(things.parse({}), src);
  assert.deepEqual(p1.rows, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(
    { from: p1.from, to: p1.to, total: p1.total, exact: p1.exact, pages: p1.pages, hasNext: p1.hasNext },
    { from: 1, to: 10, total: 25, exact: true, pages: 3, hasNext: true },
  );
  assert.deepEqual(src.calls, ['rows 0+11 name:asc,id:asc', 'count 46']);
  const last = source(25);
  const p3 = await things.read(things.parse({ page: '3', sort: 'size' }), last);
  assert.deepEqual(
    { rows: p3.rows, from: p3.from, to: p3.to, total: p3.total, exact: p3.exact, pages: p3.pages, hasNext: p3.hasNext },
    { rows: [21, 22, 23, 24, 25], from: 21, to: 25, total: 25, exact: true, pages: 3, hasNext: false },
  );
  assert.deepEqual(last.calls, ['rows 20+11 size:desc,id:asc'], 'no count on the last page');
  const empty = await things.read(things.parse({}), source(0));
  assert.deepEqual(
    { from: empty.from, to: empty.to, total: empty.total, pages: empty.pages },
    { from: 0, to: 0, total: 0, pages: 1 },
  );
});

test('read: counting stops at the cap ("45+"), and is skipped where it could only say so', async () => {
  const src = source(1000);
  const p1 = await things.read(things.parse({}), src);
  assert.deepEqual({ total: p1.total, exact: p1.exact, pages: p1.pages }, { total: 45, exact: false, pages: null });
  assert.deepEqual(src.calls, ['rows 0+11 name:asc,id:asc', 'count 46']);
  assert.equal(totalLabel(p1), '45+');
  const deep = source(1000);
  const p70 = await things.read(things.parse({ page: '70' }), deep);
  assert.deepEqual(
    { from: p70.from, to: p70.to, total: p70.total, exact: p70.exact, hasNext: p70.hasNext },
    { from: 691, to: 700, total: 700, exact: false, hasNext: true },
  );
  assert.deepEqual(deep.calls, ['rows 690+11 name:asc,id:asc'], 'page 70 costs one query, like page 1');
  assert.equal(pager(things, p70).summary, '691–700 of 700+');
  const exactlyCap = await things.read(things.parse({}), source(45));
  assert.deepEqual(
    { total: exactlyCap.total, exact: exactlyCap.exact, pages: exactlyCap.pages },
    { total: 45, exact: true, pages: 5 },
  );
});

test('read: a page past the end shows the last page', async () => {
  const src = source(25);
  const p = await things.read(things.parse({ page: '9', q: 'x' }), src);
  assert.equal(p.query.page, 3);
  assert.equal(p.query.q, 'x');
  assert.deepEqual(p.rows, [21, 22, 23, 24, 25]);
  assert.deepEqual(src.calls, ['rows 80+11 name:asc,id:asc', 'count all', 'rows 20+11 name:asc,id:asc']);
  const huge = await things.read(things.parse({ page: '9'.repeat(30) }), source(3));
  assert.equal(huge.query.page, 1);
  assert.deepEqual(huge.rows, [1, 2, 3]);
  const none = await things.read(things.parse({ page: '4' }), source(0));
  assert.deepEqual({ page: none.query.page, rows: none.rows, total: none.total }, { page: 1, rows: [], total: 0 });
});

test('pager and view: "11–20 of 25", page numbers, and links that keep the search, filters and sort', async () => {
  const l = things.parse({ q: 'x', kind: 'big', sort: 'size', dir: 'desc', page: '2' });
  const view = listView(things, await things.read(l, source(25)), ['name', 'size']);
  assert.deepEqual(view.pager, {
    summary: '11–20 of 25',
    label: 'Page 2 of 3',
    prev: '?q=x&kind=big&sort=size&dir=desc',
    next: '?q=x&kind=big&sort=size&dir=desc&page=3',
  });
  assert.equal(view.total, '25');
  assert.equal(view.sortedBy, 'Size descending');
  assert.equal(view.href({ kind: null }), '?q=x&sort=size&dir=desc');
  const single = pager(things, await things.read(things.parse({}), source(4)));
  assert.deepEqual(single, { summary: '1–4 of 4', label: null, prev: null, next: null });
  const capped = pager(things, await things.read(things.parse({ page: '2' }), source(1000)));
  assert.equal(capped.label, 'Page 2');
  assert.equal(capped.summary, '11–20 of 45+');
  assert.equal(pager(things, await things.read(things.parse({}), source(0))).summary, null);
  assert.equal(totalLabel({ total: 5000, exact: false }), '5,000+');
});

test('search form: keeps the other parameters as hidden fields, not its own and not the page', () => {
  const l: Q = things.parse({ q: 'x', kind: 'big', owner: UUID, sort: 'size', dir: 'asc', page: '3' });
  const q = searchForm(things, l, { label: 'Search things', placeholder: 'Name' });
  assert.deepEqual(q, {
    name: 'q',
    label: 'Search things',
    placeholder: 'Name',
    button: 'Search',
    value: 'x',
    hidden: [
      ['kind', 'big'],
      ['owner', UUID],
      ['sort', 'size'],
      ['dir', 'asc'],
    ],
  });
  const kind = searchForm(things, l, { name: 'kind', label: 'Kind', placeholder: 'big', button: 'Filter' });
  assert.equal(kind.value, 'big');
  assert.deepEqual(kind.hidden, [
    ['q', 'x'],
    ['owner', UUID],
    ['sort', 'size'],
    ['dir', 'asc'],
  ]);
  assert.deepEqual(searchForm(things, things.parse({}), { label: 'S', placeholder: '' }).hidden, []);
});
