// Helper of sql-trace.ts: N connected mailboxes through Test & Enable at C=50 on PGlite, with tracing switched on around the run.
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { buildDeps } from '../../src/compose.ts';
import { startWorkers } from '../../src/workers.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createSealer } from '../../src/security/secrets.ts';
import { startRemoteWorld } from '../world.ts';
import { seedScale, resetForRun } from '../seed.ts';
import { baseEnv, tempDir, sleep } from '../util.ts';
export async function benchScaleTrace(on: () => void, off: () => void) {
  const world = await startRemoteWorld(20);
  const dir = tempDir('trace');
  const config = loadConfig({ ...baseEnv(), ...world.googleEnv, DATA_DIR: dir.path });
  const db = await openDatabase(config);
  await migrate(db);
  const logger = createLogger('warn');
  const sealer = createSealer(config.secretsKeys.current);
  const deps = buildDeps({ config, db, logger, sealer, mailTlsCa: world.ca, checks: { workers: 50 } });
  const jobs = deps.jobs!;
  await startWorkers(deps, { schedules: false });
  const n = Number(process.env.N ?? 100);
  const seed = await seedScale(db.prisma, sealer, world, { n, maxConcurrentConnections: 100 });
  await resetForRun(db.prisma, seed.mailboxIds);
  on();
  const t0 = performance.now();
  await deps.tests!.request(seed.mailboxIds, null);
  while (
    await db.prisma.mailbox.count({ where: { OR: [{ incomingStatus: 'PENDING' }, { outgoingStatus: 'PENDING' }] } })
  )
    await sleep(200);
  off();
  console.log('wall', performance.now() - t0);
  await jobs.stop();
  await db.close();
  await world.close();
  dir.remove();
}
