// Every state-changing route in the app's own route table refuses a request without a valid CSRF token (403, "Form
// expired"), for a signed-in administrator on real records and for an anonymous visitor: a route added tomorrow, or
// one moved in front of the CSRF check, fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import { routeTable, STATE_CHANGING } from '../helpers/routes.ts';
import { createEnabledMailboxes } from '../helpers/sync-fixtures.ts';

/** Real ids for each route parameter, by the collection it follows, so an unprotected route would act. */
async function realIds(ctx: TestContext): Promise<Record<string, string>> {
  const { ids, profileId } = await createEnabledMailboxes(ctx.db.prisma, 1);
  const victim = await ctx.user();
  return { profiles: profileId, mailboxes: ids[0], users: victim.id };
}

function fill(path: string, ids: Record<string, string>): string {
  return path.replace(/([^/]+)\/:(\w+)/g, (_m, collection: string) => `${collection}/${ids[collection] ?? 'x'}`);
}

describeEachDb('CSRF on every state-changing route', (ctx) => {
  test('the route table knows the state-changing routes', () => {
    const routes = routeTable(ctx().app).filter((r) => STATE_CHANGING.has(r.method));
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const known of [
      'POST /login',
      'POST /logout',
      'POST /setup',
      'POST /mailboxes/:id/test',
      'POST /profiles/:id',
    ])
      assert.ok(names.includes(known), `${known} in ${names.join(', ')}`);
    assert.ok(routes.length >= 20, `${routes.length} routes`);
  });

  test('without a token, or with a forged one, each answers 403 before doing anything', async () => {
    const ids = await realIds(ctx());
    const { client: admin } = await ctx().signedIn('ADMIN');
    const anonymous = ctx().client();
    await anonymous.get('/login'); // a session, so the token check has something to bind to
    // The JSON API (/api/v1) reads no cookie at all: it is swept below for refusing a signed-in browser instead.
    const all = routeTable(ctx().app).filter((r) => STATE_CHANGING.has(r.method));
    const routes = all.filter((r) => !r.path.startsWith('/api/'));
    const api = all.filter((r) => r.path.startsWith('/api/'));
    const form = new URLSearchParams({ name: 'Changed', email: 'changed@example.com', ids: ids.mailboxes }).toString();
    const problems: string[] = [];
    for (const r of routes)
      for (const [who, c] of [
        ['admin', admin],
        ['anonymous', anonymous],
      ] as const)
        for (const token of [undefined, 'forged']) {
          const res = await c.request(r.method, fill(r.path, ids), {
            body: token ? `${form}&_csrf=${token}` : form,
            headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          });
          const error = res.status === 403 ? (JSON.parse(res.text) as { error?: string }).error : undefined;
          if (error !== 'Form expired')
            problems.push(`${who} ${r.method} ${r.path} (${token ?? 'no token'}): ${res.status}`);
        }
    // A signed-in administrator's session cookie is no API credential: every API write answers 401 without a token.
    for (const r of api) {
      const res = await admin.request(r.method, fill(r.path, ids), {
        body: JSON.stringify({ name: 'Changed', ids: [ids.mailboxes] }),
        headers: { 'content-type': 'application/json' },
      });
      if (res.status !== 401) problems.push(`admin (session cookie) ${r.method} ${r.path}: ${res.status}`);
    }
    assert.ok(api.length >= 10, `${api.length} API routes`);
    assert.deepEqual(problems, []);
    // Nothing changed: the admin is still signed in and the records are as they were.
    assert.equal((await admin.get('/mailboxes')).status, 200);
    assert.ok(await ctx().db.prisma.mailbox.findUnique({ where: { id: ids.mailboxes } }));
    assert.equal((await ctx().db.prisma.user.findUniqueOrThrow({ where: { id: ids.users } })).disabledAt, null);
  });
});
