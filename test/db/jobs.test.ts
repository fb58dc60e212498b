// pg-boss runs jobs on the app's own database in both modes: the session sweeper is a real job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import { QUEUES } from '../../src/jobs/boss.ts';

describeEachDb('jobs', (ctx) => {
  test('a queued job runs and completes (expired sessions are swept)', async () => {
    const { prisma } = ctx().db;
    await prisma.session.createMany({ data: [
      { sid: 'old', data: '{}', expiresAt: new Date(Date.now() - 60_000) },
      { sid: 'live', data: '{}', expiresAt: new Date(Date.now() + 60_000) },
    ] });
    const boss = ctx().jobs!.boss;
    const id = await boss.send(QUEUES.sweepSessions, {});
    assert.ok(id);
    const deadline = Date.now() + 30_000;
    let state = '';
    while (Date.now() < deadline) {
      const job = await boss.getJobById(QUEUES.sweepSessions, id!);
      state = job?.state ?? '';
      if (state === 'completed' || state === 'failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(state, 'completed');
    assert.deepEqual((await prisma.session.findMany({ select: { sid: true } })).map((s) => s.sid), ['live']);
  });
}, { jobs: true });
