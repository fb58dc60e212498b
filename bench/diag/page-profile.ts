// Diagnostic: CPU profile of the server process under autocannon (CONN connections, default 50) on one page. Usage: tsx bench/diag/page-profile.ts <pglite|postgres> <path> [seconds] [profile dir]
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../../src/config.ts';
import { openSeededPages } from './seeded.ts';
import { spawnServer } from '../start.ts';
import { signIn } from '../pages.ts';
import { baseEnv, benchPostgres, tempDir } from '../util.ts';

const [engine = 'postgres', path = '/profiles', seconds = '10', profDir = '/tmp/page-prof'] = process.argv.slice(2);
const dir = engine === 'pglite' ? tempDir('prof') : undefined;
const pgdb = engine === 'postgres' ? await benchPostgres('prof') : undefined;
// SYNC=off as the pages bench runs (the seed's mailboxes enabled for sync point at servers that do not exist: with
// sync on, the profile is the sync engine's); MAILROOM_ROLE passed on when set.
const env = baseEnv({
  ...(dir ? { DATA_DIR: join(dir.path, 'data') } : { DATABASE_URL: pgdb!.url }),
  SYNC: process.env.SYNC ?? 'off',
  ...(process.env.MAILROOM_ROLE ? { MAILROOM_ROLE: process.env.MAILROOM_ROLE } : {}),
});
const config = loadConfig(env);
const { db, seed } = await openSeededPages(config);
await db.close();
const server = await spawnServer(env, { args: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
const cookie = await signIn(server.url, seed.adminEmail, seed.password);
let i = 0;
const r = await autocannon({
  url: server.url,
  connections: Number(process.env.CONN ?? 50),
  duration: Number(seconds),
  headers: { cookie },
  requests: [
    {
      method: 'GET',
      setupRequest: (req) => ({
        ...req,
        path: path.replace(':id', () => seed.mailboxIds[i++ % seed.mailboxIds.length]),
      }),
    },
  ],
});
console.log(path, Math.round(r.requests.average), 'req/s p50', r.latency.p50, 'p99', r.latency.p99, 'non2xx', r.non2xx);
await server.stop();
dir?.remove();
await pgdb?.drop();
process.exit(0);
