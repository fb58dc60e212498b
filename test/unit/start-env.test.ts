// The malloc settings `npm start` and `npm run worker` give the server (decisions 035, 041): run the part of each
// script's shell line that starts the server (after the build check) with the server replaced by `env`, and read the
// environment the server would get.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../src/paths.ts';

const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;

function serverEnv(script: string, env: Record<string, string>): Record<string, string> {
  const line = scripts[script]!;
  const at = line.lastIndexOf('exec node ');
  assert.ok(at > 0, `${script} ends by exec-ing node`);
  const out = execFileSync('sh', ['-c', `${line.slice(line.lastIndexOf('&& ', at) + 3, at)}exec env`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

for (const script of ['start', 'worker']) {
  test(`npm run ${script} gives the server MALLOC_ARENA_MAX=2 and MALLOC_MMAP_THRESHOLD_=131072 unless set`, () => {
    const d = serverEnv(script, {});
    assert.equal(d.MALLOC_ARENA_MAX, '2');
    assert.equal(d.MALLOC_MMAP_THRESHOLD_, '131072');
    const own = serverEnv(script, { MALLOC_ARENA_MAX: '8', MALLOC_MMAP_THRESHOLD_: '1048576' });
    assert.equal(own.MALLOC_ARENA_MAX, '8');
    assert.equal(own.MALLOC_MMAP_THRESHOLD_, '1048576');
  });
}
