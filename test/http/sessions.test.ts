// How long a session lasts: SESSION_IDLE_MINUTES without a request (exact to within IDLE_PRECISION_MS, without a
// write per request) and SESSION_MAX_HOURS after it began. Time passes by moving the stored times back in the database,
// which is what every process reads, so the tests need not wait: they change the rows behind the app's back, as another
// process would, so they run with SESSION_CACHE_MS=0 (the last describe tests the cache and its bound).
import { test } from 'node:test';
import { randomUUID } from 'node:crypto';
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
  { env: { SESSION_IDLE_MINUTES: '1', SESSION_CACHE_MS: '0' } },
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
  { env: { SESSION_IDLE_MINUTES: '120', SESSION_CACHE_MS: '0' } },
);

describeEachDb(
  'session cache (SESSION_CACHE_MS)',
  (ctx) => {
    const sessionRows = async (c: TestClient) =>
      (
        await ctx().db.raw.query<{ n: number }>('SELECT count(*)::int AS n FROM "Session" WHERE sid = $1', [sidOf(c)])
      )[0].n;

    test("a session read once answers the next requests: another process's sign-out is seen within the bound", async () => {
      const { client } = await ctx().signedIn();
      assert.equal((await client.get('/')).status, 200);
      // Another process signs the session out: this one has not read the row since, and answers from what it read.
      await ctx().db.raw.query('DELETE FROM "Session" WHERE sid = $1', [sidOf(client)]);
      assert.equal((await client.get('/')).status, 200, 'within SESSION_CACHE_MS of the last read');
      assert.equal(await sessionRows(client), 0, 'the cached request wrote no row back');
    });

    test('signing out ends the session at once in this process, though it was cached', async () => {
      const { client } = await ctx().signedIn();
      assert.equal((await client.get('/')).status, 200);
      const stolen = ctx().client();
      for (const [k, v] of client.cookies) stolen.cookies.set(k, v);
      assert.equal((await stolen.get('/')).status, 200, 'the same session from a copy of its cookie');
      assert.equal((await client.post('/logout')).status, 303);
      const res = await stolen.get('/');
      assert.equal(res.status, 303, 'the copied cookie is signed out too');
      assert.equal(res.location, '/login');
    });

    test("disabling a user ends their cached sessions at once, and no one else's", async () => {
      const { client: admin } = await ctx().signedIn('ADMIN');
      const { client: a, user } = await ctx().signedIn();
      const { client: b } = await ctx().signedIn();
      for (const c of [a, b]) assert.equal((await c.get('/mailboxes')).status, 200);
      await admin.get('/admin/users');
      assert.equal((await admin.post(`/admin/users/${user.id}/disable`)).status, 303);
      assert.equal((await a.get('/mailboxes')).status, 303, 'the disabled user is signed out');
      assert.equal((await b.get('/mailboxes')).status, 200, 'another user stays signed in');
    });

    test('a session carrying a flash message is read every time: one shown by another process is not shown again', async () => {
      const { client: admin } = await ctx().signedIn('ADMIN');
      const { user } = await ctx().signedIn();
      assert.equal((await admin.get('/admin/users')).status, 200);
      assert.equal((await admin.post(`/admin/users/${user.id}/disable`)).status, 303); // leaves a flash message
      // A request that reads the session without showing the message (a live update), then another process shows it.
      assert.equal((await admin.get(`/mailboxes/status.json?ids=${randomUUID()}`)).status, 200);
      const [row] = await ctx().db.raw.query<{ data: string }>('SELECT data FROM "Session" WHERE sid = $1', [
        sidOf(admin),
      ]);
      const { flash, ...rest } = JSON.parse(row.data);
      assert.ok(flash, 'the session holds the message');
      await ctx().db.raw.query('UPDATE "Session" SET data = $2 WHERE sid = $1', [sidOf(admin), JSON.stringify(rest)]);
      assert.doesNotMatch((await admin.get('/admin/users')).text, /class="flash flash-/, 'not shown twice');
    });
  },
  { env: { SESSION_CACHE_MS: '10000' } },
);
