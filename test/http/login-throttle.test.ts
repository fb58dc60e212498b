// Sign-in throttling over HTTP on both databases: per IP and per account, without locking the owner out (an IP with no
// failures, or a browser that signed in before, still gets in), every 429 logged and audited; and TRUST_PROXY deciding
// whose address a request is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestClient } from '../helpers/client.ts';
import { createApp } from '../../src/app.ts';
import { buildDeps } from '../../src/compose.ts';
import { decide, DEFAULT_LIMITS } from '../../src/security/login-throttle.ts';

const WRONG = 'not the password';

async function attempt(c: TestClient, email: string, password: string) {
  await c.get('/login');
  return c.post('/login', { email, password });
}

const from = (ctx: TestContext, forwardedFor: string) => ctx.client({ 'x-forwarded-for': forwardedFor });

test('the rule: a known browser answers for itself; an attacked account only refuses IPs that have failed', () => {
  const L = DEFAULT_LIMITS;
  assert.deepEqual(decide({ ip: 0, account: 0, device: 0 }, L, false), { allow: true });
  assert.deepEqual(decide({ ip: 50, account: 0, device: 0 }, L, false), { allow: false, bucket: 'ip' });
  assert.deepEqual(decide({ ip: 1, account: 10, device: 0 }, L, false), { allow: false, bucket: 'account' });
  assert.deepEqual(decide({ ip: 0, account: 500, device: 0 }, L, false), { allow: true });
  assert.deepEqual(decide({ ip: 50, account: 500, device: 9 }, L, true), { allow: true });
  assert.deepEqual(decide({ ip: 0, account: 10, device: 10 }, L, true), { allow: false, bucket: 'device' });
});

describeEachDb(
  'login throttling',
  (ctx) => {
    test('per account: the 4th failure from one IP gets 429, and so does the right password from that IP', async () => {
      const u = await ctx().user();
      const c = from(ctx(), '10.1.0.1');
      for (let i = 0; i < 3; i++) assert.equal((await attempt(c, u.email, WRONG)).status, 401);
      const refused = await attempt(c, u.email, WRONG);
      assert.equal(refused.status, 429);
      assert.match(refused.text, /Too many sign-in attempts/);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      assert.equal((await attempt(c, u.email, u.password)).status, 429);
    });

    test('failures from other IPs do not refuse the owner from an IP with no failures; each guesser IP gets one try', async () => {
      const u = await ctx().user();
      for (let i = 0; i < 3; i++) assert.equal((await attempt(from(ctx(), `10.2.0.${i}`), u.email, WRONG)).status, 401);
      // The account is guarded now: a fresh address still gets its one try, then is refused.
      const fresh = from(ctx(), '10.2.1.1');
      assert.equal((await attempt(fresh, u.email, WRONG)).status, 401);
      assert.equal((await attempt(fresh, u.email, WRONG)).status, 429);
      assert.equal((await attempt(from(ctx(), '10.2.0.0'), u.email, u.password)).status, 429, 'a guesser IP');
      const owner = await attempt(from(ctx(), '192.0.2.10'), u.email, u.password);
      assert.equal(owner.status, 303, 'the owner, from an address with no failures');
    });

    test('per IP: failures on many accounts from one address get 429', async () => {
      const c = from(ctx(), '10.3.0.1');
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await attempt(c, `nobody${i}@example.com`, WRONG)).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429]);
    });

    test('a browser that signed in before keeps its own allowance, even from an address that guessed', async () => {
      const u = await ctx().user();
      const owner = from(ctx(), '10.4.0.1');
      await owner.login(u.email, u.password);
      assert.ok(owner.cookies.has('mailroom.device'));
      await owner.post('/logout');
      // From the owner's own address (a shared NAT), a stranger guesses until both the account and the IP are refused.
      const stranger = from(ctx(), '10.4.0.1');
      for (let i = 0; i < 6; i++) await attempt(stranger, u.email, WRONG);
      assert.equal((await attempt(stranger, u.email, u.password)).status, 429);
      assert.equal((await attempt(owner, u.email, u.password)).status, 303, 'the known browser gets in');
      await owner.post('/logout');
      // The known browser's own failures still count: 3 more, and it is refused too.
      for (let i = 0; i < 3; i++) assert.equal((await attempt(owner, u.email, WRONG)).status, 401);
      assert.equal((await attempt(owner, u.email, u.password)).status, 429);
      // A device cookie is bound to its account: it gives nothing on another one.
      const other = await ctx().user();
      for (let i = 0; i < 3; i++) await attempt(from(ctx(), `10.4.1.${i}`), other.email, WRONG);
      assert.equal((await attempt(owner, other.email, other.password)).status, 429);
    });

    test('every 429 is audited (DENIED, with the bucket) and logged', async () => {
      const before = await ctx().db.prisma.auditEvent.count({ where: { action: 'auth.login', result: 'DENIED' } });
      const c = from(ctx(), '10.5.0.1');
      let refused = 0;
      for (let i = 0; i < 9; i++) if ((await attempt(c, `someone${i}@example.com`, WRONG)).status === 429) refused++;
      assert.equal(refused, 3);
      const denied = await ctx().db.prisma.auditEvent.findMany({
        where: { action: 'auth.login', result: 'DENIED', ip: '10.5.0.1' },
      });
      assert.equal(denied.length, 3);
      assert.equal((denied[0].details as { throttled: string }).throttled, 'ip');
      assert.equal(
        (await ctx().db.prisma.auditEvent.count({ where: { action: 'auth.login', result: 'DENIED' } })) - before,
        3,
      );
      const logged = ctx().logs.filter((l) => l.includes('sign-in refused') && l.includes('10.5.0.1'));
      assert.equal(logged.length, 3);
    });

    test('the counts live in the database: another app on the same database refuses the same IP', async () => {
      const c = from(ctx(), '10.6.0.1');
      for (let i = 0; i < 6; i++) assert.equal((await attempt(c, `x${i}@example.com`, WRONG)).status, 401);
      const t = ctx();
      const other = createApp(
        buildDeps({
          config: t.config,
          db: t.db,
          logger: t.deps.logger,
          sealer: t.sealer,
          jobs: false,
          limits: t.deps.limits,
        }),
      );
      const server = createServer(other);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const elsewhere = new TestClient(url, { 'x-forwarded-for': '10.6.0.1' });
        assert.equal((await attempt(elsewhere, 'y@example.com', WRONG)).status, 429);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  },
  { app: { limits: { login: { perIp: 6, perAccount: 3 } } } },
);

describeEachDb(
  'TRUST_PROXY=2 (a CDN in front of a load balancer)',
  (ctx) => {
    test('each client gets its own address, in the per-IP bucket and in the audit log', async () => {
      // The load balancer connects from loopback and appends the CDN's address; the CDN appended the client's.
      const a = from(ctx(), '203.0.113.7, 198.51.100.1');
      const b = from(ctx(), '203.0.113.8, 198.51.100.1');
      for (let i = 0; i < 3; i++) assert.equal((await attempt(a, `a${i}@example.com`, WRONG)).status, 401);
      assert.equal((await attempt(a, 'a9@example.com', WRONG)).status, 429);
      assert.equal((await attempt(b, 'b0@example.com', WRONG)).status, 401, 'another client behind the same CDN');
      const audited = await ctx().db.prisma.auditEvent.findFirst({
        where: { details: { path: ['email'], equals: 'b0@example.com' } },
      });
      assert.equal(audited?.ip, '203.0.113.8');
    });
  },
  { env: { TRUST_PROXY: '2' }, app: { limits: { login: { perIp: 3, perAccount: 100 } } } },
);

describeEachDb(
  'TRUST_PROXY=false (no proxy)',
  (ctx) => {
    test('X-Forwarded-For is ignored: a client cannot choose its address', async () => {
      const c = from(ctx(), '203.0.113.50');
      await attempt(c, 'nobody@example.com', WRONG);
      const audited = await ctx().db.prisma.auditEvent.findFirst({
        where: { details: { path: ['email'], equals: 'nobody@example.com' } },
      });
      assert.match(audited?.ip ?? '', /^(::ffff:)?127\.0\.0\.1$/);
    });
  },
  { env: { TRUST_PROXY: 'false' } },
);
