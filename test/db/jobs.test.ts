// pg-boss runs jobs on the app's own database in both modes: the session sweeper is a real job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import { QUEUES } from '../../src/jobs/boss.ts';
import { waitFor } from '../helpers/wait.ts';

describeEachDb(
  'jobs',
  (ctx) => {
    test('a queued job runs and completes (expired sessions are swept)', async () => {
      const { prisma } = ctx().db;
      await prisma.session.createMany({
        data: [
          { sid: 'old', data: '{}', expiresAt: new Date(Date.now() - 60_000) },
          { sid: 'live', data: '{}', expiresAt: new Date(Date.now() + 60_000) },
        ],
      });
      const boss = ctx().jobs!.boss;
      const id = await boss.send(QUEUES.sweepSessions, {});
      assert.ok(id);
      const state = await waitFor('the sweep job to end', async () => {
        const s = (await boss.getJobById(QUEUES.sweepSessions, id!))?.state;
        return s === 'completed' || s === 'failed' ? s : undefined;
      });
      assert.equal(state, 'completed');
      assert.deepEqual(
        (await prisma.session.findMany({ select: { sid: true } })).map((s) => s.sid),
        ['live'],
      );
    });
  },
  { jobs: true },
);
