// What list pages render (views/partials/thead.ejs, search.ejs, pager.ejs), built from a list's query and page:
// column headers with their sort links, the pager with its "1–50 of 5,000+" count, and the search form's fields.
import type { FilterSchemas, ListDef, ListPage, ListQuery } from './list.ts';

export interface Column {
  label: string;
  /** Shown to screen readers only (a checkbox or actions column). */
  srOnly?: boolean;
  /** Sortable columns: where a click goes (the other direction when the list is sorted by it). */
  href?: string;
  /** Only on the column the list is sorted by (ARIA: one sorted header at a time). */
  ariaSort?: 'ascending' | 'descending';
  arrow?: '▲' | '▼';
}

export interface Pager {
  /** "1–50 of 55", "51–100 of 5,000+"; null when the list is empty. */
  summary: string | null;
  /** "Page 2 of 3", or "Page 2" when the total is not counted; null on a single page. */
  label: string | null;
  prev: string | null;
  next: string | null;
}

export interface SearchForm {
  /** The query parameter and the input's id. */
  name: string;
  label: string;
  value: string;
  placeholder: string;
  button: string;
  /** The list's other parameters (filters, sort), kept when the form is sent; the page starts again at 1. */
  hidden: [string, string][];
}

/** A column of a list page: a sort key of the list, or a plain header. */
export type ColumnLayout<K extends string> = K | { label: string; srOnly?: boolean };

const number = (n: number) => n.toLocaleString('en-US');

/** The number of matching rows as a list shows it: "55", or "5,000+" when counting stopped. */
export function totalLabel(page: Pick<ListPage<unknown, unknown>, 'total' | 'exact'>): string {
  return number(page.total) + (page.exact ? '' : '+');
}

export function columns<O, K extends string, F extends FilterSchemas>(
  def: ListDef<O, K, F>,
  l: ListQuery<K, F>,
  layout: ColumnLayout<K>[],
): Column[] {
  return layout.map((c) => {
    if (typeof c !== 'string') return { label: c.label, srOnly: c.srOnly };
    const sort = def.spec.sorts[c];
    const active = l.sort === c;
    const dir = active ? (l.dir === 'asc' ? 'desc' : 'asc') : (sort.first ?? 'asc');
    const column: Column = { label: sort.label, href: def.href(l, { sort: c, dir } as Partial<ListQuery<K, F>>) };
    if (active)
      Object.assign(
        column,
        l.dir === 'asc' ? { ariaSort: 'ascending', arrow: '▲' } : { ariaSort: 'descending', arrow: '▼' },
      );
    return column;
  });
}

export function pager<O, K extends string, F extends FilterSchemas>(
  def: ListDef<O, K, F>,
  page: ListPage<unknown, ListQuery<K, F>>,
): Pager {
  const l = page.query;
  const at = (n: number, cursor: { before?: string; after?: string } = {}) =>
    def.href(l, { page: n, ...cursor } as Partial<ListQuery<K, F>>);
  const several = page.hasNext || l.page > 1;
  // Keyset lists link by cursor (the first row for Previous, the last for Next), others by page number.
  const c = page.cursors;
  return {
    summary: page.to ? `${number(page.from)}–${number(page.to)} of ${totalLabel(page)}` : null,
    label: several ? `Page ${number(l.page)}${page.pages ? ` of ${number(page.pages)}` : ''}` : null,
    prev: l.page > 1 ? at(l.page - 1, c?.before ? { before: c.before } : {}) : null,
    next: page.hasNext ? at(l.page + 1, c?.after ? { after: c.after } : {}) : null,
  };
}

/** A GET form that searches (`q`) or filters one parameter of the list, keeping the others. */
export function searchForm<O, K extends string, F extends FilterSchemas>(
  def: ListDef<O, K, F>,
  l: ListQuery<K, F>,
  o: { name?: 'q' | (keyof F & string); label: string; placeholder: string; button?: string },
): SearchForm {
  const name = o.name ?? 'q';
  const value = (l as Record<string, unknown>)[name];
  return {
    name,
    label: o.label,
    placeholder: o.placeholder,
    button: o.button ?? 'Search',
    value: typeof value === 'string' ? value : '',
    hidden: def.params(l).filter(([n]) => n !== name),
  };
}

/** Everything a list page's partials need, plus `href` for the page's own links (e.g. a filter on a row's value). */
export function listView<O, K extends string, F extends FilterSchemas, R>(
  def: ListDef<O, K, F>,
  page: ListPage<R, ListQuery<K, F>>,
  layout: ColumnLayout<K>[],
) {
  const l = page.query;
  const sort = def.spec.sorts[l.sort];
  return {
    l,
    rows: page.rows,
    total: totalLabel(page),
    pager: pager(def, page),
    columns: columns(def, l, layout),
    sortedBy: `${sort.label} ${l.dir === 'asc' ? 'ascending' : 'descending'}`,
    href: (change: Partial<ListQuery<K, F>> = {}) => def.href(l, change),
  };
}
