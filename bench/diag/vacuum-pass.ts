// One maintenance pass (src/db/pglite-vacuum.ts, decision 043) on the pages seed (10,000 mailboxes, ANALYZE only, as
// PGlite had it before the loop): which tables it vacuums, each one's wall time (how long a page can wait behind it),
// the process's CPU; then the database reopened (PGlite loses its counters) and a second pass, which should find
// nothing to do. `npx tsx bench/diag/vacuum-pass.ts [emails]` (PGlite).
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { createLogger } from '../../src/logger.ts';
import { maintenancePass } from '../../src/db/pglite-vacuum.ts';
import { seedEmails } from '../seed.ts';
import { baseEnv, round, tempDir } from '../util.ts';
import { openSeededPages } from './seeded.ts';

const emails = Number(process.argv[2] ?? 0);
const dir = tempDir('vacuum-pass');
const config = loadConfig(baseEnv({ DATA_DIR: join(dir.path, 'data'), LOG_LEVEL: 'info' }));
const logger = createLogger('info');
try {
  const { db } = await openSeededPages(config);
  if (emails) await seedEmails(db.raw, { emails, mailboxes: 10000 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const first = await maintenancePass(db.raw, logger);
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `first pass: ${first.vacuumed.length} vacuumed, ${first.analyzed.length} analyzed, ${first.failed.length} failed; ` +
      `${round(performance.now() - t0)} ms wall, ${round((cpu.user + cpu.system) / 1000)} ms CPU (both threads)`,
  );
  await db.close();
  const again = await openDatabase(config);
  const t1 = performance.now();
  const second = await maintenancePass(again.raw, logger);
  console.log(`after a reopen: ${JSON.stringify(second)} in ${round(performance.now() - t1)} ms`);
  const cpu2 = process.cpuUsage();
  const t2 = performance.now();
  const third = await maintenancePass(again.raw, logger);
  const idleCpu = process.cpuUsage(cpu2);
  console.log(
    `a pass with nothing to do: ${third.vacuumed.length + third.analyzed.length} tables, ` +
      `${round(performance.now() - t2)} ms wall, ${round((idleCpu.user + idleCpu.system) / 1000)} ms CPU`,
  );
  await again.close();
} finally {
  dir.remove();
}
