// What must never appear in a response body: a stack frame, a source file path, the project's directory, a JS error
// class name leaking from a template. Shared by the error-page tests and the fuzz run.
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

const LEAKS: [string, RegExp][] = [
  ['stack frame', /\bat [^\n<]*?\(?[^\s()<]+:\d+:\d+\)?/],
  ['source file path', /(?:\/[\w.@-]+){2,}\.(?:ts|mts|cts|mjs|cjs|ejs)\b|(?:\/[\w.@-]+)+\.js:\d+/],
  ['project directory', new RegExp(ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))],
  ['node_modules', /node_modules/],
  ['error class', /\b(?:ReferenceError|TypeError|SyntaxError|RangeError|PrismaClient\w*Error)\b/],
];

/** The first leak found in a body, as "what: excerpt", or undefined when the body is clean. */
export function leakIn(body: string): string | undefined {
  for (const [what, re] of LEAKS) {
    const m = re.exec(body);
    if (m) return `${what}: …${body.slice(Math.max(0, m.index - 60), m.index + 120)}…`;
  }
  return undefined;
}
