// Compiles native/malloc-trim.c into build/malloc-trim.node with the system's C compiler (`$CC`, else `cc`), when it is
// missing or older than its source (build.mjs runs this: postinstall, and `npm start` when dist/ is stale). Optional:
// without a compiler, or on a C library without malloc_trim (musl, macOS), nothing is built and the server simply does
// not trim (src/malloc-trim.ts, decision 046). Never fails the install or the start.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';

const SOURCE = 'native/malloc-trim.c';
const TARGET = 'build/malloc-trim.node';

if (process.platform !== 'linux' || !existsSync(SOURCE)) process.exit(0);
if (existsSync(TARGET) && statSync(TARGET).mtimeMs >= statSync(SOURCE).mtimeMs) process.exit(0);
mkdirSync('build', { recursive: true });
const tmp = `${TARGET}.${process.pid}.tmp`; // several starts may build at once: each renames its own file into place
const cc = process.env.CC || 'cc';
const r = spawnSync(cc, ['-shared', '-fPIC', '-O2', '-o', tmp, SOURCE], { encoding: 'utf8' });
if (r.status === 0) renameSync(tmp, TARGET);
else {
  rmSync(tmp, { force: true });
  const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n')[0];
  process.stderr.write(
    `mailroom: optional native/malloc-trim.c not built (${why}); the server will not return freed memory to the OS.\n`,
  );
}
