// Seeded generators for the fuzz run: a small PRNG (mulberry32) and the odd values, query strings and bodies it sends.
// The same seed sends the same requests, so a failure can be replayed with FUZZ_SEED.

export interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
  };
}

/** Values that have broken web apps: empties, NULs, encodings, numbers at the edges, injections, prototypes. */
export const NASTY: readonly string[] = [
  '',
  ' ',
  '\0',
  'a\0b',
  '%00',
  '%',
  '%zz',
  '%E0%A4%A',
  '../../etc/passwd',
  '..%2f..%2f',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' OR 1=1 --",
  '"',
  '\\',
  '💥',
  'é',
  '\u202e',
  '\ud800',
  '\r\nX-Injected: 1',
  '-1',
  '0',
  '1.5',
  '99999999999999999999',
  '1e309',
  'NaN',
  'Infinity',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  '00000000-0000-0000-0000-000000000000',
  'not-a-uuid',
  'http://evil.example/',
  '//evil.example',
  'javascript:alert(1)',
  'a@b',
  'ADMIN',
  'USER',
  'IMAP',
  'POP3',
  'GMAIL_OAUTH',
  'CREDENTIALS_PER_MAILBOX',
  'SERVER_SIDE_SYNC',
  'on',
  '2026-02-30',
  'x'.repeat(300),
  'y'.repeat(5000),
];

/** A value for a field: mostly odd, sometimes plausible. */
export function value(r: Rng, plausible: readonly string[]): string {
  if (r.chance(0.3)) return r.pick(plausible);
  if (r.chance(0.1)) return String(r.int(100_000) - 50_000);
  return r.pick(NASTY);
}

/** Percent-encodes a string; a lone surrogate (not valid UTF-16) goes byte by byte instead of throwing. */
export function pct(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return [...Buffer.from(v, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

export function encodeForm(fields: [string, string][]): string {
  return fields.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&');
}

/** Percent-escapes that decode to bytes that are not UTF-8, and broken escapes. */
export const RAW_ESCAPES: readonly string[] = ['%C3%28', '%FF%FE', '%ED%A0%80', '%E0%80%AF', '%', '%2', '%%', '%00%00'];

/** Keys with bracket syntax and repeats, which extended parsers turn into arrays and objects. */
export function oddKey(r: Rng, name: string): string {
  return r.pick([name, `${name}[]`, `${name}[0]`, `${name}[a][b]`, `${name}.x`, '__proto__', 'constructor[prototype]']);
}

/** A JSON value of any shape: numbers, arrays, nested objects, nulls, strings. */
export function jsonValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 4 : 7)) {
    case 0:
      return r.pick(NASTY);
    case 1:
      return r.int(2) ? r.int(1e9) : -r.next();
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    case 4:
      return Array.from({ length: r.int(4) }, () => jsonValue(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick(NASTY), jsonValue(r, depth + 1)]));
  }
}
