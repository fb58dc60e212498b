// Google's token endpoint is HTTPS, so the bench's is too (world.ts): the app must trust the bench CA, which Node's
// fetch reads only at start-up from NODE_EXTRA_CA_CERTS. So a bench script makes the CA, then runs itself again with
// it, and exits with that run's status; in the second run (BENCH_TLS_DIR set) this returns at once.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCa } from '../test/fakes/mail/tls.ts';

export function rerunWithBenchCa(prefix: string): void {
  if (process.env.BENCH_TLS_DIR) return;
  const dir = mkdtempSync(join(tmpdir(), `mailroom-${prefix}-tls-`));
  const ca = makeTestCa();
  writeFileSync(join(dir, 'ca.pem'), ca.caPem);
  writeFileSync(join(dir, 'cert.pem'), ca.certPem);
  writeFileSync(join(dir, 'key.pem'), ca.keyPem);
  const env = { ...process.env, BENCH_TLS_DIR: dir, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') };
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  rmSync(dir, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}
