// Helper of sql-trace.ts: N connected mailboxes through Test & Enable at C=50 on PGlite, with tracing switched on around the run.
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createJobs } from '../../src/jobs/boss.ts';
import { createApp } from '../../src/app.ts';
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
  const db = await openDatabase(config); await migrate(db);
  const logger = createLogger('warn'); const jobs = createJobs(db, logger, { schedule: false });
  const sealer = createSealer(config.secretsKeys.current);
  const app = createApp({ config, db, logger, jobs, sealer, mailTlsCa: world.ca, checks: { workers: 50 } });
  await jobs.ready;
  const n = Number(process.env.N ?? 100);
  const seed = await seedScale(db.prisma, sealer, world, { n, maxConcurrentConnections: 100 });
  await resetForRun(db.prisma, seed.mailboxIds);
  on();
  const t0 = performance.now();
  await (app.locals as any).tests.request(seed.mailboxIds, null);
  while (await db.prisma.mailbox.count({ where: { OR: [{ incomingStatus: 'PENDING' }, { outgoingStatus: 'PENDING' }] } })) await sleep(200);
  off();
  console.log('wall', performance.now() - t0);
  app.locals.close(); await jobs.stop(); await db.close(); await world.close(); dir.remove();
}
