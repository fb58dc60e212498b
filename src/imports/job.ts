// The mailbox import's job queue (payload: the import's id only; the rows are in the database) and its worker.
// A job that dies with its process expires and runs again; it then continues with the rows still to do.
import type { PgBoss } from 'pg-boss';
import { z } from 'zod';
import type { QueueSpec } from '../jobs/boss.ts';
import type { AppDeps } from '../deps.ts';
import { IMPORT_QUEUE, runImport } from './service.ts';

export { IMPORT_QUEUE };

export const importQueues: QueueSpec[] = [
  // Per-row claims make a second run harmless, so a short expiry only brings a crashed import back sooner.
  { name: IMPORT_QUEUE, options: { policy: 'standard', retryLimit: 10, retryDelay: 5, expireInSeconds: 300 } },
];

const payload = z.object({ importId: z.uuid() });

export async function startImportWorker(boss: PgBoss, deps: Pick<AppDeps, 'db' | 'sealer' | 'logger'>): Promise<void> {
  await boss.work(IMPORT_QUEUE, async ([job]) => {
    const { importId } = payload.parse(job.data);
    await runImport(deps, importId);
  });
}
