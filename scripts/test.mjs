// `npm test`: checks format and lint rules (Biome), type-checks, then runs every test/**/*.test.ts in one node:test run (database suites run
// themselves on PGlite and on PostgreSQL). Pass paths to run only those files.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const files = args.length
  ? args
  : readdirSync('test', { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => join('test', f))
      .sort();

if (!args.length) {
  const biome = spawnSync('node_modules/.bin/biome', ['ci', '--colors=off', '.'], { stdio: 'inherit' });
  if (biome.status !== 0) {
    console.error('Format or lint check failed: run `npm run format` and fix what it cannot.');
    process.exit(biome.status ?? 1);
  }
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'], {
    stdio: 'inherit',
  });
  if (tsc.status !== 0) {
    console.error('Type check failed.');
    process.exit(tsc.status ?? 1);
  }
}
const concurrency = process.env.TEST_CONCURRENCY_FILES ?? '2';
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=420000', ...files],
  {
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'test' },
  },
);
process.exit(r.status ?? 1);
