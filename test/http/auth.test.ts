// Sign-in, sessions, setup, CSRF, roles and the audit of it all, over HTTP on both databases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, TEST_PASSWORD } from '../helpers/context.ts';
import { issueSetupToken } from '../../src/auth/setup.ts';

describeEachDb('auth', (ctx) => {
  test('first-run setup: the one-time link creates the first admin, then setup is closed', async () => {
    const { db } = ctx();
    await db.prisma.user.deleteMany();
    const token = await issueSetupToken(db.prisma, ctx().sealer);
    const c = ctx().client();
    assert.equal((await c.get('/setup')).status, 403);
    assert.equal((await c.get('/setup?token=wrong')).status, 403);
    const open = await c.get(`/setup?token=${token}`);
    assert.equal(open.status, 303);
    assert.equal(open.location, '/setup');
    const form = await c.get('/setup');
    assert.match(form.text, /Create the first administrator/);
    const bad = await c.post('/setup', { name: 'Ada', email: 'not-an-email', password: 'short', confirmPassword: 'x' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /Enter a valid email address/);
    assert.match(bad.text, /at least 10 characters/);
    assert.match(bad.text, /value="Ada"/);
    const ok = await c.post('/setup', {
      name: 'Ada',
      email: 'Ada@Example.com',
      password: TEST_PASSWORD,
      confirmPassword: TEST_PASSWORD,
    });
    assert.equal(ok.status, 303);
    const admin = await db.prisma.user.findUniqueOrThrow({ where: { email: 'ada@example.com' } });
    assert.equal(admin.role, 'ADMIN');
    assert.ok(!admin.passwordHash.includes(TEST_PASSWORD));
    assert.match((await c.get('/')).text, /Email Server Profiles/);
    assert.equal((await ctx().client().get(`/setup?token=${token}`)).status, 404);
  });

  test('wrong password and unknown user get the same answer; both are audited as failures', async () => {
    const u = await ctx().user();
    const c = ctx().client();
    await c.get('/login');
    const wrong = await c.post('/login', { email: u.email, password: 'wrong password!' });
    await c.get('/login');
    const unknown = await c.post('/login', { email: 'nobody@example.com', password: 'wrong password!' });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    const msg = (t: string) => /role="alert">([^<]*)</.exec(t)?.[1];
    assert.equal(msg(wrong.text), 'Email or password is incorrect.');
    assert.equal(msg(unknown.text), msg(wrong.text));
    const failures = await ctx().db.prisma.auditEvent.count({ where: { action: 'auth.login', result: 'FAILURE' } });
    assert.ok(failures >= 2);
  });

  test('login regenerates the session id; logout destroys the session', async () => {
    const u = await ctx().user();
    const c = ctx().client();
    await c.get('/login');
    const before = c.cookies.get('mailroom.sid');
    assert.ok(before);
    const res = await c.post('/login', { email: u.email, password: u.password });
    assert.equal(res.status, 303);
    const after = c.cookies.get('mailroom.sid');
    assert.ok(after && after !== before);
    const setCookie = res.headers.getSetCookie().find((x) => x.startsWith('mailroom.sid='))!;
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    assert.doesNotMatch(setCookie, /Secure/);
    const sid = decodeURIComponent(after!).slice(2).split('.')[0];
    assert.ok(await ctx().db.prisma.session.findUnique({ where: { sid } }));
    await c.get('/');
    const out = await c.post('/logout');
    assert.equal(out.status, 303);
    assert.equal(await ctx().db.prisma.session.findUnique({ where: { sid } }), null);
    assert.equal((await c.get('/')).status, 303);
    const audited = await ctx().db.prisma.auditEvent.findFirst({ where: { action: 'auth.logout', targetId: u.id } });
    assert.ok(audited);
  });

  test('rolling sessions: a page view right after the last write does not write the expiry again', async () => {
    const { client } = await ctx().signedIn();
    await client.get('/');
    const sid = decodeURIComponent(client.cookies.get('mailroom.sid')!).slice(2).split('.')[0];
    const first = (await ctx().db.prisma.session.findUniqueOrThrow({ where: { sid } })).expiresAt.getTime();
    await new Promise((r) => setTimeout(r, 20)); // not a wait: lets the clock move, so a rewrite would store a new expiry
    const res = await client.get('/');
    assert.equal(res.status, 200);
    assert.match(res.headers.getSetCookie().join(), /mailroom\.sid=.*Expires=/); // the browser's cookie still rolls
    assert.equal((await ctx().db.prisma.session.findUniqueOrThrow({ where: { sid } })).expiresAt.getTime(), first);
  });

  test('a tampered session cookie logs out', async () => {
    const { client } = await ctx().signedIn();
    assert.equal((await client.get('/')).status, 200);
    const v = client.cookies.get('mailroom.sid')!;
    client.cookies.set('mailroom.sid', v.slice(0, -3) + (v.endsWith('abc') ? 'xyz' : 'abc'));
    const res = await client.get('/');
    assert.equal(res.status, 303);
    assert.equal(res.location, '/login');
  });

  test('CSRF: a POST without the token is refused with a page that says to reload', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const res = await client.post(
      '/admin/users',
      { email: 'x@example.com', name: 'X', password: TEST_PASSWORD },
      { csrf: false },
    );
    assert.equal(res.status, 403);
    assert.match(res.text, /Reload the page and try again/);
    assert.equal(await ctx().db.prisma.user.count({ where: { email: 'x@example.com' } }), 0);
    const forged = await client.post('/admin/users', {
      email: 'x@example.com',
      name: 'X',
      password: TEST_PASSWORD,
      _csrf: 'forged',
    });
    assert.equal(forged.status, 403);
    const loginNoToken = await ctx().client().post('/login', { email: 'a@b.c', password: 'x' }, { csrf: false });
    assert.equal(loginNoToken.status, 403);
  });

  test('a USER gets 403 on every admin page; nav hides admin links', async () => {
    const { client } = await ctx().signedIn('USER');
    for (const p of ['/admin/users', '/admin/users/new', '/admin/audit'])
      assert.equal((await client.get(p)).status, 403, p);
    const home = await client.get('/');
    assert.doesNotMatch(home.text, /href="\/admin\/users"/);
    assert.doesNotMatch(home.text, /href="\/admin\/audit"/);
    assert.match(home.text, /href="\/mailboxes"/);
    const post = await client.post('/admin/users', {
      email: 'y@example.com',
      name: 'Y',
      password: TEST_PASSWORD,
      role: 'ADMIN',
    });
    assert.equal(post.status, 403);
  });

  test('not signed in: pages redirect to sign-in and come back after', async () => {
    const u = await ctx().user({ role: 'ADMIN' });
    const c = ctx().client();
    const res = await c.get('/admin/audit');
    assert.equal(res.status, 303);
    assert.equal(res.location, '/login');
    await c.get('/login');
    const login = await c.post('/login', { email: u.email, password: u.password });
    assert.equal(login.location, '/admin/audit');
  });

  test('request bodies over the limit get 413', async () => {
    const c = ctx().client();
    await c.get('/login');
    const res = await c.post('/login', { email: 'a@b.c', password: 'x'.repeat(100_000) });
    assert.equal(res.status, 413);
  });

  test('healthz answers 200 when the database answers; unknown pages 404 without a stack', async () => {
    const c = ctx().client();
    const h = await c.get('/healthz');
    assert.equal(h.status, 200);
    assert.equal(h.text, 'ok');
    const nf = await c.get('/no/such/page');
    assert.equal(nf.status, 404);
    assert.doesNotMatch(nf.text, /at .*\.ts:\d+/);
  });

  test('security headers: CSP without inline script', async () => {
    const res = await ctx().client().get('/login');
    const csp = res.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
    assert.doesNotMatch(res.text, /<script>/);
  });

  test('passwords and secrets never reach the log', async () => {
    const u = await ctx().user();
    const c = ctx().client();
    await c.get('/login');
    await c.post('/login', { email: u.email, password: 'a-wrong-password-123' });
    await c.login(u.email, u.password);
    const all = ctx().logs.join('');
    assert.ok(!all.includes(u.password));
    assert.ok(!all.includes('a-wrong-password-123'));
    assert.ok(!all.includes(ctx().config.sessionSecret));
  });
});
