// Parses one IMAP client command (tag, name, arguments incl. quoted strings, lists and literals) for the IMAP fake.
export type ImapValue = string | null | ImapValue[];
export interface ImapCommand {
  tag: string;
  name: string;
  args: ImapValue[];
}

export class ImapParseError extends Error {}

/**
 * `text` is the command as latin1 (one char per byte) with literals inlined as `{n}\r\n<n bytes>`,
 * so literal lengths count bytes; string values come back decoded as UTF-8.
 */
export function parseCommand(text: string): ImapCommand {
  let pos = 0;
  const fail = (why: string): never => {
    throw new ImapParseError(`${why} at ${pos}`);
  };
  const utf8 = (s: string) => Buffer.from(s, 'latin1').toString('utf8');

  const atom = (): string => {
    const m = /^[^\s()"{}\x00-\x1f]+/.exec(text.slice(pos));
    if (!m) return fail('expected atom');
    pos += m[0].length;
    return m[0];
  };

  const quoted = (): string => {
    let out = '';
    pos++; // opening quote
    while (pos < text.length) {
      const ch = text[pos++];
      if (ch === '"') return utf8(out);
      if (ch === '\\') out += text[pos++] ?? '';
      else if (ch === '\r' || ch === '\n') fail('line break in quoted string');
      else out += ch;
    }
    return fail('unterminated string');
  };

  const literal = (): string => {
    const m = /^\{(\d+)\+?\}\r\n/.exec(text.slice(pos));
    if (!m) return fail('bad literal');
    pos += m[0].length;
    const n = Number(m[1]);
    if (pos + n > text.length) fail('short literal');
    const value = text.slice(pos, pos + n);
    pos += n;
    return utf8(value);
  };

  const value = (): ImapValue => {
    const ch = text[pos];
    if (ch === '(') return list();
    if (ch === '"') return quoted();
    if (ch === '{') return literal();
    const a = atom();
    return a.toUpperCase() === 'NIL' ? null : a;
  };

  function list(): ImapValue[] {
    const items: ImapValue[] = [];
    pos++; // (
    for (;;) {
      while (text[pos] === ' ') pos++;
      if (pos >= text.length) fail('unterminated list');
      if (text[pos] === ')') {
        pos++;
        return items;
      }
      items.push(value());
    }
  }

  const tag = atom();
  if (tag === '*' || tag === '+' || text[pos] !== ' ') fail('bad tag');
  pos++;
  const name = atom().toUpperCase();
  const args: ImapValue[] = [];
  while (pos < text.length) {
    if (text[pos] !== ' ') fail('expected space');
    while (text[pos] === ' ') pos++;
    if (pos < text.length) args.push(value());
  }
  return { tag, name, args };
}

/** Quotes a string the way a server writes it back. */
export const q = (s: string): string => `"${s.replace(/[\\"]/g, '\\$&')}"`;

/** IMAP LIST wildcard match: `*` anything, `%` anything but the hierarchy delimiter. */
export function matchesPattern(name: string, pattern: string, delimiter = '/'): boolean {
  const re = pattern
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/%/g, `[^${delimiter}]*`);
  return new RegExp(`^${re}$`, /^inbox$/i.test(name) ? 'i' : '').test(name);
}
