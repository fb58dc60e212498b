// The house's import rules, read from the source: no import cycle between files (type imports included), and no two
// folders of src/ importing each other, so each feature has one direction (gmail → mailboxes, checks → mailboxes,
// everything → mail, auth, web). A new edge that closes a loop fails here with the files that make it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../../src');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('generated') && !f.endsWith('.d.ts'))
    .map((f) => join(SRC, f));
}

/** file → the src files it imports (relative imports only; packages are outside the rules). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(IMPORT)]
      .map((m) => resolve(dirname(file), m[1]))
      .filter((t) => t.startsWith(`${SRC}/`) && !relative(SRC, t).startsWith('generated'));
    graph.set(file, targets);
  }
  return graph;
}

const folderOf = (file: string) => {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0] : '(root)';
};

test('no import cycle between files of src/', () => {
  const graph = importGraph();
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});

test('no two folders of src/ import each other', () => {
  const edges = new Map<string, string[]>(); // "a → b" → example files
  for (const [file, targets] of importGraph()) {
    for (const t of targets) {
      const [from, to] = [folderOf(file), folderOf(t)];
      if (from === to || from === '(root)' || to === '(root)') continue;
      const key = `${from} → ${to}`;
      edges.set(key, [...(edges.get(key) ?? []), `${relative(SRC, file)} → ${relative(SRC, t)}`]);
    }
  }
  const twoWay = [...edges.keys()]
    .filter((k) => {
      const [a, b] = k.split(' → ');
      return a < b && edges.has(`${b} → ${a}`);
    })
    .map((k) => {
      const [a, b] = k.split(' → ');
      return { [k]: edges.get(k)!.slice(0, 3), [`${b} → ${a}`]: edges.get(`${b} → ${a}`)!.slice(0, 3) };
    });
  assert.deepEqual(twoWay, []);
});
