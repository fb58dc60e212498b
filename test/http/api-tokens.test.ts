// API tokens over HTTP on both engines: made on their page (shown once, stored hashed, never logged), used as bearer
// tokens (no cookie, no CSRF), read-only 403, revoked and expired 401, another user's mailbox 404, and the per-token
// rate limit. Every API answer is checked against the OpenAPI document (api-resources.test.ts covers every operation).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import { tokenFromPage } from '../helpers/api-tokens.ts';
import { apiClient, OpenApiChecker } from '../helpers/openapi.ts';
import { createMailboxRow } from '../helpers/mail-records.ts';
import { startFakeGoogle, googleEnvOf } from '../fakes/google.ts';

const google = await startFakeGoogle();
after(() => google.close());
const rand = () => randomBytes(4).toString('hex');

describeEachDb(
  'API tokens',
  (get) => {
    const ctx = (): TestContext => get();
    const prisma = () => ctx().db.prisma;
    let checker: OpenApiChecker;
    let admin: Awaited<ReturnType<TestContext['signedIn']>>;
    let alice: Awaited<ReturnType<TestContext['signedIn']>>;
    let bob: Awaited<ReturnType<TestContext['signedIn']>>;
    let aliceApi: ReturnType<typeof apiClient>;
    let aliceToken: string;
    const clientId = `${rand()}.apps.googleusercontent.com`;

    before(async () => {
      google.addClient({ clientId, clientSecret: 'GOCSPX-right', redirectUris: [] });
      const res = await fetch(`${ctx().url}/api/openapi.json`);
      assert.equal(res.status, 200);
      checker = new OpenApiChecker((await res.json()) as Record<string, unknown>);
      admin = await ctx().signedIn('ADMIN');
      alice = await ctx().signedIn('USER');
      bob = await ctx().signedIn('USER');
      await tokenFromPage(admin.client, { name: 'Admin script' });
      aliceToken = await tokenFromPage(alice.client, { name: 'Alice script' });
      aliceApi = apiClient(ctx().url, checker, aliceToken);
    });

    test('a token is shown once, stored only as a hash, listed with its last use, and never logged', async () => {
      const me = await aliceApi.get('/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.user.email, alice.user.email);
      assert.equal(me.body.token.scope, 'READ_WRITE');
      assert.equal(me.headers.get('set-cookie'), null, 'the API sets no cookie');
      const row = await prisma().apiToken.findFirstOrThrow({ where: { ownerId: alice.user.id } });
      assert.equal(row.tokenHash, createHash('sha256').update(aliceToken).digest('hex'));
      assert.ok(row.lastUsedAt, 'the use is recorded');
      const dump = JSON.stringify(await prisma().apiToken.findMany());
      assert.ok(!dump.includes(aliceToken), 'the token is not stored');
      const page = await alice.client.get('/account/tokens');
      assert.equal(page.status, 200);
      assert.match(page.text, /Alice script/);
      assert.ok(!page.text.includes(aliceToken), 'the list never shows the token again');
      assert.ok(page.text.includes(row.prefix), 'the list shows its prefix');
      assert.doesNotMatch(page.text, /Admin script/, "a user's page lists only their tokens");
      const audit = await prisma().auditEvent.findFirst({ where: { action: 'api-token.create', targetId: row.id } });
      assert.ok(audit, 'creation is audited');
      assert.ok(!JSON.stringify(audit).includes(aliceToken), 'the audit entry holds no token');
      // A failing request logs its headers through the redaction list: the token never reaches the log.
      await fetch(`${ctx().url}/api/v1/me`, { headers: { authorization: `Bearer ${aliceToken}`, cookie: 'x=1' } });
      assert.ok(!ctx().logs.join('').includes(aliceToken), 'the token is not in the logs');
    });

    test('without a token, or with an unknown one: 401 problem+json with a Bearer challenge; cookies do not count', async () => {
      const none = await apiClient(ctx().url, checker, null).get('/mailboxes');
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal(none.headers.get('content-type')?.split(';')[0], 'application/problem+json');
      const unknown = await apiClient(ctx().url, checker, `mrt_${rand()}`).get('/mailboxes');
      assert.equal(unknown.status, 401);
      // A signed-in browser's session cookie is not an API credential.
      const cookie = [...alice.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(`${ctx().url}/api/v1/me`, { headers: { cookie } });
      assert.equal(res.status, 401);
      // …and a bearer POST needs no CSRF token.
      const created = await aliceApi.post('/mailboxes', {
        name: 'No CSRF',
        emailAddress: `nocsrf-${rand()}@example.com`,
      });
      assert.equal(created.status, 201, created.text);
    });

    test('a read-only token reads and gets 403 on every write', async () => {
      const ro = apiClient(ctx().url, checker, await tokenFromPage(alice.client, { scope: 'READ_ONLY' }));
      assert.equal((await ro.get('/mailboxes')).status, 200);
      const w = await ro.post('/mailboxes', { name: 'x', emailAddress: `ro-${rand()}@example.com` });
      assert.equal(w.status, 403);
      assert.match(w.body.detail, /read-only/);
      const mb = await createMailboxRow(prisma(), { ownerId: alice.user.id });
      assert.equal((await ro.patch(`/mailboxes/${mb.id}`, { name: 'y' })).status, 403);
      assert.equal((await ro.delete(`/mailboxes/${mb.id}`)).status, 403);
      assert.equal((await ro.post(`/mailboxes/${mb.id}/test-enable`)).status, 403);
      assert.equal((await prisma().mailbox.findUniqueOrThrow({ where: { id: mb.id } })).name, mb.name);
    });

    test('a revoked token answers 401 (revoked by its owner, or by an admin on the all-tokens page), audited', async () => {
      const token = await tokenFromPage(bob.client, { name: 'Bob revoke me' });
      const bobApi = apiClient(ctx().url, checker, token);
      assert.equal((await bobApi.get('/me')).status, 200);
      const row = await prisma().apiToken.findFirstOrThrow({ where: { ownerId: bob.user.id, name: 'Bob revoke me' } });
      // Another user cannot revoke it…
      await alice.client.get('/account/tokens');
      assert.equal((await alice.client.post(`/account/tokens/${row.id}/revoke`)).status, 404);
      assert.equal((await bobApi.get('/me')).status, 200);
      // …an admin can, from the page that lists everyone's.
      const all = await admin.client.get('/admin/tokens');
      assert.equal(all.status, 200);
      assert.ok(
        all.text.includes('Bob revoke me') && all.text.includes(bob.user.email),
        "the admin sees Bob's token and its owner",
      );
      assert.equal((await bob.client.get('/admin/tokens')).status, 403);
      const revoked = await admin.client.post(`/admin/tokens/${row.id}/revoke`);
      assert.equal(revoked.status, 303);
      const res = await bobApi.get('/me');
      assert.equal(res.status, 401);
      assert.match(res.body.detail, /revoked/);
      assert.ok(await prisma().auditEvent.findFirst({ where: { action: 'api-token.revoke', targetId: row.id } }));
      assert.ok(
        await prisma().auditEvent.findFirst({ where: { action: 'api.denied', targetId: row.id, result: 'DENIED' } }),
      );
      // The owner revokes their own, too.
      const own = await tokenFromPage(bob.client, { name: 'Bob own' });
      const ownRow = await prisma().apiToken.findFirstOrThrow({ where: { ownerId: bob.user.id, name: 'Bob own' } });
      await bob.client.get('/account/tokens');
      assert.equal((await bob.client.post(`/account/tokens/${ownRow.id}/revoke`)).status, 303);
      assert.equal((await apiClient(ctx().url, checker, own).get('/me')).status, 401);
    });

    test('an expired token answers 401', async () => {
      const token = await tokenFromPage(bob.client, { name: 'Bob expires', expiresInDays: '7' });
      const bobApi = apiClient(ctx().url, checker, token);
      assert.equal((await bobApi.get('/me')).status, 200);
      // Seven days on: the expiry is in the past.
      await prisma().apiToken.updateMany({
        where: { ownerId: bob.user.id, name: 'Bob expires' },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      const res = await bobApi.get('/me');
      assert.equal(res.status, 401);
      assert.match(res.body.detail, /expired/);
    });

    test("a user's token: another user's mailbox is 404, admin operations 403, as on the pages", async () => {
      const bobs = await createMailboxRow(prisma(), { ownerId: bob.user.id });
      for (const r of [
        await aliceApi.get(`/mailboxes/${bobs.id}`),
        await aliceApi.patch(`/mailboxes/${bobs.id}`, { name: 'mine now' }),
        await aliceApi.delete(`/mailboxes/${bobs.id}`),
        await aliceApi.get(`/mailboxes/${bobs.id}/test-runs`),
        await aliceApi.post(`/mailboxes/${bobs.id}/test-enable`),
      ])
        assert.equal(r.status, 404);
      assert.equal((await aliceApi.get('/mailboxes/not-a-uuid')).status, 404);
      const list = await aliceApi.get('/mailboxes?limit=200');
      assert.ok(!list.body.items.some((m: { id: string }) => m.id === bobs.id), "Bob's mailbox is not in Alice's list");
      assert.ok(await prisma().auditEvent.findFirst({ where: { action: 'access.denied', targetId: bobs.id } }));
      for (const r of [
        await aliceApi.get('/profiles'),
        await aliceApi.get('/users'),
        await aliceApi.get('/audit-events'),
        await aliceApi.post(`/mailboxes/${bobs.id}/approve`),
      ])
        assert.equal(r.status, 403);
    });
  },
  { env: googleEnvOf(google) },
);

describeEachDb(
  'JSON API rate limit',
  (get) => {
    test('past API_RATE_LIMIT requests a minute a token gets 429 with Retry-After; another token is not held back', async () => {
      const ctx = get();
      const res = await fetch(`${ctx.url}/api/openapi.json`);
      const checker = new OpenApiChecker((await res.json()) as Record<string, unknown>);
      const { client } = await ctx.signedIn('USER');
      const api = apiClient(ctx.url, checker, await tokenFromPage(client));
      for (let i = 0; i < 3; i++) assert.equal((await api.get('/me')).status, 200);
      const limited = await api.get('/me');
      assert.equal(limited.status, 429);
      const wait = Number(limited.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
      assert.equal(limited.body.type, '/api/problems/rate-limited');
      const other = apiClient(ctx.url, checker, await tokenFromPage(client));
      assert.equal((await other.get('/me')).status, 200);
      // Counted in the database: what a second web process would see too.
      const counted = await ctx.db.prisma.apiRequest.count();
      assert.equal(counted, 4);
    });
  },
  { env: { API_RATE_LIMIT: '3' } },
);
