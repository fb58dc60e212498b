// What a process loads at start: packages that only a job, a synchronization or a rare page uses are imported where
// they are used (`await import()`, or required on first use), never by a module the server loads at start — an idle
// server does not hold them (decision 035: each was MBs of idle memory and tens of ms of every cold start).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../../src');
// Value imports only: `import type` is erased by the build.
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]/g;
// main.ts loads the runtime with import() once the database is opening: followed too (files of src/ only).
const LOCAL_DYNAMIC = /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

const LAZY = ['imapflow', 'nodemailer', 'postal-mime', 'sanitize-html', 'multer'];

/** Every package the files reachable from `entry` import statically, with the file that imports it. */
function staticPackages(entry: string): Map<string, string> {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of [...text.matchAll(IMPORT), ...text.matchAll(LOCAL_DYNAMIC)]) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (existsSync(target)) visit(target);
      } else if (!packages.has(spec)) packages.set(spec, relative(SRC, file));
    }
  };
  visit(entry);
  return packages;
}

test('the server and worker entries load no mail-protocol, parsing or upload package at start', () => {
  for (const entry of ['server.ts', 'worker.ts']) {
    const packages = staticPackages(resolve(SRC, entry));
    assert.ok(packages.has('express') && packages.has('pg-boss'), `the walk of ${entry} reached the app`);
    const eager = [...packages].filter(([p]) => LAZY.some((l) => p === l || p.startsWith(`${l}/`)));
    assert.deepEqual(
      eager.map(([p, file]) => `${p} (imported by src/${file})`),
      [],
      `${entry}: import these where they are used, not at the top of a module the server loads at start`,
    );
  }
});
