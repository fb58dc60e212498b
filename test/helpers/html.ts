// Reading server-rendered pages in HTTP tests: a table's body rows as text, links by their text, entities decoded.

export function decode(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#34;/g, '"')
    .replace(/&amp;/g, '&');
}

/** The text of an HTML fragment: tags removed, entities decoded, whitespace collapsed. */
export function textOf(html: string): string {
  return decode(html.replace(/<[^>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

/** The rows of the first <tbody> after `after` (a marker in the page), each as its cells' texts. */
export function tableRows(html: string, after = ''): string[][] {
  const from = after ? html.indexOf(after) : 0;
  if (from < 0) throw new Error(`no ${after} in the page`);
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html.slice(from))?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) =>
    [...m[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => textOf(c[1])),
  );
}

/** The href of the first link whose text is `text` (exactly, after trimming); null if there is none. */
export function linkHref(html: string, text: string): string | null {
  for (const m of html.matchAll(/<a\s[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g))
    if (textOf(m[2]) === text) return decode(m[1]);
  return null;
}
