// Compiles src/ into dist/src/ (npm start runs dist/src/server.js: no TypeScript loader in the running process).
// `--if-stale` (npm start) builds only when dist is missing or a file under src/ or a tsconfig is newer than the last
// build; postinstall builds always. Transpile only (`--noCheck`): type errors are `npm run typecheck`'s and CI's job.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'dist/.built';
const LOCK = 'dist/.building';
const TSC = 'node_modules/typescript/bin/tsc';
const ifStale = process.argv.includes('--if-stale');

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted file changes its folder's mtime
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function stale() {
  if (!existsSync(STAMP) || !existsSync('dist/src/server.js')) return true;
  const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json'];
  return Math.max(...inputs.map(newestMtime)) > statSync(STAMP).mtimeMs;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Several processes may start at once (roles web and worker): one builds, the others wait for it.
function lock() {
  mkdirSync('dist', { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      if (Date.now() - statSync(LOCK).mtimeMs > 300_000) rmSync(LOCK, { recursive: true, force: true }); // a crashed build
      sleep(200);
    }
  }
}

if (ifStale && !stale()) process.exit(0);
if (!existsSync(TSC)) {
  if (existsSync('dist/src/server.js')) process.exit(0); // installed without dev dependencies: run what was built
  if (!ifStale) process.exit(0); // postinstall without dev dependencies: nothing to build with, say so at start
  process.stderr.write('mailroom: dist/ is missing and TypeScript is not installed: run `npm install` first.\n');
  process.exit(1);
}
lock();
try {
  if (!ifStale || stale()) {
    const started = new Date();
    process.stderr.write('mailroom: compiling src/ into dist/ …\n');
    const r = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.build.json', '--noCheck'], { stdio: 'inherit' });
    if (r.status !== 0) {
      process.stderr.write(`mailroom: the build failed (tsc exited ${r.status ?? r.signal}).\n`);
      process.exit(1);
    }
    writeFileSync(STAMP, `${started.toISOString()}\n`);
    utimesSync(STAMP, started, started); // a file saved during the build is newer: the next start builds again
    // The optional malloc_trim addon (decision 046), so a checkout updated without `npm install` gets it too.
    spawnSync(process.execPath, ['scripts/build-native.mjs'], { stdio: 'inherit' });
  }
} finally {
  rmSync(LOCK, { recursive: true, force: true });
}
