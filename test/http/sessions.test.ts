// How long a session lasts: SESSION_IDLE_MINUTES without a request (exact to within IDLE_PRECISION_MS, without a
// write per request) and SESSION_MAX_HOURS after it began. Time passes by moving the stored times back in the database,
// which is what every process reads, so the tests need not wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';
import { IDLE_PRECISION_MS } from '../../src/auth/session-store.ts';

const sidOf = (c: TestClient) => decodeURIComponent(c.cookies.get('mailroom.sid')!).slice(2).split('.')[0];

/** As if `seconds` had passed since the session's times were written. */
async function elapse(ctx: TestContext, c: TestClient, seconds: number): Promise<void> {
  await ctx.db.raw.query(
    `UPDATE "Session" SET "expiresAt" = "expiresAt" - make_interval(secs => $2),
       "createdAt" = "createdAt" - make_interval(secs => $2) WHERE sid = $1`,
    [sidOf(c), seconds],
  );
}

const storedExpiry = async (ctx: TestContext, c: TestClient) =>
  (await ctx.db.prisma.session.findUniqueOrThrow({ where: { sid: sidOf(c) } })).expiresAt.getTime();

describeEachDb(
  'session lifetime',
  (ctx) => {
    test('SESSION_IDLE_MINUTES=1: a request every 8 s keeps the user signed in for 10 minutes', async () => {
      const { client } = await ctx().signedIn();
      for (let i = 1; i <= 75; i++) {
        await elapse(ctx(), client, 8);
        const res = await client.get('/');
        assert.equal(res.status, 200, `signed out after ${i * 8} s of activity`);
      }
    });

    test('idle expiry is exact to within the precision, and a request soon after a write does not write', async () => {
      const { client } = await ctx().signedIn();
      await client.get('/');
      const written = await storedExpiry(ctx(), client);
      await elapse(ctx(), client, 3);
      assert.equal((await client.get('/')).status, 200);
      assert.equal(await storedExpiry(ctx(), client), written - 3_000, 'no write 3 s after the last one');
      // 54 s after that last request (57 s after the write): within the idle minute, less the precision.
      assert.ok(54 < 60 - IDLE_PRECISION_MS / 1000);
      await elapse(ctx(), client, 54);
      assert.equal((await client.get('/')).status, 200, 'still signed in 54 s after the last request');
      await elapse(ctx(), client, 61);
      const out = await client.get('/');
      assert.equal(out.status, 303, 'signed out after a minute without a request');
      assert.equal(out.location, '/login');
    });
  },
  { env: { SESSION_IDLE_MINUTES: '1' } },
);

describeEachDb(
  'session absolute lifetime',
  (ctx) => {
    test('SESSION_MAX_HOURS=12: an active session ends 12 hours after sign-in', async () => {
      const { client } = await ctx().signedIn();
      for (let hour = 1; hour < 12; hour++) {
        await elapse(ctx(), client, 3600); // one request an hour keeps the two-hour idle expiry moving
        assert.equal((await client.get('/')).status, 200, `signed in at hour ${hour}`);
      }
      await elapse(ctx(), client, 3600 - 60);
      assert.equal((await client.get('/')).status, 200, 'a minute before the 12 hours');
      await elapse(ctx(), client, 30);
      assert.equal((await client.get('/')).status, 200, '30 s before');
      await elapse(ctx(), client, 31);
      const out = await client.get('/');
      assert.equal(out.status, 303, 'signed out at 12 hours although active');
      // Signing in again starts a new session with its own 12 hours.
      const again = await ctx().signedIn();
      assert.equal((await again.client.get('/')).status, 200);
    });
  },
  { env: { SESSION_IDLE_MINUTES: '120' } },
);
