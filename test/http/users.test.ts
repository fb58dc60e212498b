// Admin user management and the audit log page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, TEST_PASSWORD } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';

/** The session id in a client's session cookie (`s:<sid>.<signature>`). */
function sidOf(client: TestClient): string {
  const cookie = decodeURIComponent(client.cookies.get('mailroom.sid') ?? '');
  return cookie.slice(2, cookie.lastIndexOf('.'));
}

describeEachDb('users admin', (ctx) => {
  test('add a user: field errors keep input; duplicate email is a field error; success is audited', async () => {
    const { client, user: admin } = await ctx().signedIn('ADMIN');
    const bad = await client.post('/admin/users', { email: 'bad', name: '', password: 'short', role: 'USER' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /Enter a valid email address/);
    assert.match(bad.text, /Enter a name/);
    assert.match(bad.text, /value="bad"/);
    assert.doesNotMatch(bad.text, /value="short"/);
    const ok = await client.post('/admin/users', {
      email: 'New.User@Example.com',
      name: 'New User',
      password: TEST_PASSWORD,
      role: 'USER',
    });
    assert.equal(ok.status, 303);
    const list = await client.get('/admin/users');
    assert.match(list.text, /new\.user@example\.com/);
    assert.match(list.text, /User new\.user@example\.com added/);
    const dup = await client.post('/admin/users', {
      email: 'new.user@example.com',
      name: 'Again',
      password: TEST_PASSWORD,
      role: 'USER',
    });
    assert.equal(dup.status, 422);
    assert.match(dup.text, /already exists/);
    const ev = await ctx().db.prisma.auditEvent.findFirstOrThrow({
      where: { action: 'user.create', actorId: admin.id },
    });
    assert.equal((ev.details as { email: string }).email, 'new.user@example.com');
    assert.ok(!JSON.stringify(ev).includes(TEST_PASSWORD));
  });

  test('disable signs the user out and blocks sign-in; enable restores it', async () => {
    const { client: admin } = await ctx().signedIn('ADMIN');
    const { client: victim, user } = await ctx().signedIn('USER');
    assert.equal((await victim.get('/')).status, 200);
    assert.equal((await admin.post(`/admin/users/${user.id}/disable`)).status, 303);
    assert.equal((await victim.get('/')).status, 303);
    const again = ctx().client();
    await again.get('/login');
    assert.equal((await again.post('/login', { email: user.email, password: user.password })).status, 401);
    await admin.get('/admin/users');
    assert.equal((await admin.post(`/admin/users/${user.id}/enable`)).status, 303);
    await again.login(user.email, user.password);
  });

  test('sessions name their user from sign-in to sign-out; disabling A ends every session of A and none of B', async () => {
    const { prisma } = ctx().db;
    const { client: admin } = await ctx().signedIn('ADMIN');
    const a = await ctx().user();
    const b = await ctx().user();
    const [a1, a2, b1] = [ctx().client(), ctx().client(), ctx().client()];
    for (const [c, u] of [
      [a1, a],
      [a2, a],
      [b1, b],
    ] as const)
      await c.login(u.email, u.password);
    assert.deepEqual(
      (
        await prisma.session.findMany({
          where: { sid: { in: [sidOf(a1), sidOf(a2), sidOf(b1)] } },
          orderBy: { sid: 'asc' },
        })
      )
        .map((s) => [s.sid, s.userId])
        .sort(),
      [
        [sidOf(a1), a.id],
        [sidOf(a2), a.id],
        [sidOf(b1), b.id],
      ].sort(),
    );
    // B's session holds A's id in a value of its own (say a list B filtered by owner): only the userId column says whose session it is.
    const row = await prisma.session.findUniqueOrThrow({ where: { sid: sidOf(b1) } });
    await prisma.session.update({
      where: { sid: row.sid },
      data: { data: JSON.stringify({ ...JSON.parse(row.data), lastFilter: { user: a.id } }) },
    });

    await admin.get('/admin/users');
    assert.equal((await admin.post(`/admin/users/${a.id}/disable`)).status, 303);
    assert.equal(await prisma.session.count({ where: { userId: a.id } }), 0);
    for (const c of [a1, a2]) assert.equal((await c.get('/mailboxes')).status, 303, 'A is signed out everywhere');
    assert.equal((await b1.get('/mailboxes')).status, 200, 'B stays signed in');
    const ev = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'user.disable', targetId: a.id } });
    assert.equal((ev.details as { signedOut: number }).signedOut, 2);

    await b1.post('/logout');
    assert.equal(await prisma.session.count({ where: { userId: b.id } }), 0, 'signing out leaves no session of B');
  });

  test('an admin cannot disable themself; unknown ids are 404', async () => {
    const { client, user } = await ctx().signedIn('ADMIN');
    await client.post(`/admin/users/${user.id}/disable`);
    assert.equal((await ctx().db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).disabledAt, null);
    assert.equal((await client.get('/admin/users/00000000-0000-4000-8000-000000000000/password')).status, 404);
    assert.equal((await client.get('/admin/users/not-a-uuid/password')).status, 404);
  });

  test('reset a password: mismatch is a field error; the new one works and is audited', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const u = await ctx().user();
    await client.get(`/admin/users/${u.id}/password`);
    const mismatch = await client.post(`/admin/users/${u.id}/password`, {
      password: 'new password 1',
      confirmPassword: 'new password 2',
    });
    assert.equal(mismatch.status, 422);
    assert.match(mismatch.text, /do not match/);
    assert.equal(
      (
        await client.post(`/admin/users/${u.id}/password`, {
          password: 'new password 1',
          confirmPassword: 'new password 1',
        })
      ).status,
      303,
    );
    await ctx().client().login(u.email, 'new password 1');
    assert.ok(await ctx().db.prisma.auditEvent.findFirst({ where: { action: 'user.password-reset', targetId: u.id } }));
  });

  test('user list: the search takes % and _ literally', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const tag = `lit${Date.now().toString(36)}`;
    await ctx().db.prisma.user.createMany({
      data: ['a_b', 'axb', '50%', '500'].map((n, i) => ({
        email: `${tag}-${i}@example.com`,
        name: `${tag} ${n}`,
        passwordHash: 'x',
      })),
    });
    const found = (html: string) => [0, 1, 2, 3].filter((i) => html.includes(`${tag}-${i}@`));
    assert.deepEqual(found((await client.get(`/admin/users?q=${tag}%20a_b`)).text), [0]);
    assert.deepEqual(found((await client.get(`/admin/users?q=${tag}%2050%25`)).text), [2]);
    assert.deepEqual(found((await client.get(`/admin/users?q=${tag}`)).text), [0, 1, 2, 3]);
  });

  test('user list: search, sort by each column, paging with "51–55 of 55"; links keep the search and sort', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const tag = `zeta${Date.now().toString(36)}`;
    await ctx().db.prisma.user.createMany({
      data: Array.from({ length: 55 }, (_, i) => ({
        email: `${tag}-${String(i).padStart(2, '0')}@example.com`,
        name: `${tag} ${String(54 - i).padStart(2, '0')}`,
        passwordHash: 'x',
        role: i === 7 ? 'ADMIN' : 'USER',
        disabledAt: i === 3 ? new Date() : null,
      })),
    });
    const p1 = await client.get(`/admin/users?q=${tag}`);
    assert.match(p1.text, /Page 1 of 2/);
    assert.match(p1.text, /1–50 of 55/);
    assert.ok(p1.text.indexOf(`${tag}-00@`) < p1.text.indexOf(`${tag}-01@`), 'by email by default');
    assert.match(
      p1.text,
      new RegExp(`<th scope="col" aria-sort="ascending"><a href="\\?q=${tag}&amp;sort=email&amp;dir=desc">Email</a>`),
    );
    assert.match(p1.text, new RegExp(`href="\\?q=${tag}&amp;page=2" rel="next"`));
    const p2 = await client.get(`/admin/users?q=${tag}&page=2`);
    assert.match(p2.text, /51–55 of 55/);
    assert.match(p2.text, new RegExp(`${tag}-54@`));
    const byName = await client.get(`/admin/users?q=${tag}&sort=name&dir=asc`);
    assert.ok(byName.text.indexOf(`${tag}-54@`) < byName.text.indexOf(`${tag}-53@`), 'names run the other way');
    assert.match(
      byName.text,
      /<input type="hidden" name="sort" value="name"><input type="hidden" name="dir" value="asc">/,
    );
    assert.match(byName.text, new RegExp(`href="\\?q=${tag}&amp;sort=name&amp;dir=asc&amp;page=2" rel="next"`));
    const byRole = await client.get(`/admin/users?q=${tag}&sort=role&dir=asc`);
    assert.ok(byRole.text.indexOf(`${tag}-07@`) < byRole.text.indexOf(`${tag}-00@`), 'administrators first');
    const byStatus = await client.get(`/admin/users?q=${tag}&sort=status&dir=desc`);
    assert.ok(
      byStatus.text.indexOf(`${tag}-03@`) < byStatus.text.indexOf(`${tag}-00@`),
      'disabled first when descending',
    );
    assert.equal((await client.get(`/admin/users?q=${tag}&sort=mailboxes&dir=desc`)).status, 200);
    const past = await client.get(`/admin/users?q=${tag}&page=40`);
    assert.match(past.text, /Page 2 of 2/, 'a page past the end shows the last page');
    assert.match(past.text, /51–55 of 55/);
    const bogus = await client.get(`/admin/users?q=${tag}&sort=passwordHash&dir=sideways&page=-1`);
    assert.equal(bogus.status, 200);
    assert.match(bogus.text, /1–50 of 55/);
  });

  test('audit log counts at most 5,000 events ("1–50 of 5,000+"); the Time column sorts oldest first', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const base = Date.now() - 7_200_000;
    await ctx().db.prisma.auditEvent.createMany({
      data: Array.from({ length: 5_060 }, (_, i) => ({
        action: `bulk.event-${String(i).padStart(4, '0')}`,
        at: new Date(base + i * 100),
      })),
    });
    const p1 = await client.get('/admin/audit?action=bulk.');
    assert.match(p1.text, /1–50 of 5,000\+/);
    assert.match(p1.text, /<span>Page 1<\/span>/);
    assert.match(p1.text, /Audit events \(5,000\+\)/);
    assert.ok(p1.text.indexOf('bulk.event-5059') < p1.text.indexOf('bulk.event-5058'), 'newest first');
    assert.match(
      p1.text,
      /<th scope="col" aria-sort="descending"><a href="\?action=bulk\.&amp;sort=at&amp;dir=asc">Time \(UTC\)<\/a>/,
    );
    const oldest = await client.get('/admin/audit?action=bulk.&sort=at&dir=asc&page=2');
    assert.match(oldest.text, /51–100 of 5,000\+/);
    assert.match(oldest.text, /bulk\.event-0050/);
    assert.match(
      oldest.text,
      /<input type="hidden" name="sort" value="at"><input type="hidden" name="dir" value="asc">/,
      'the filter form keeps the order',
    );
    const deep = await client.get('/admin/audit?action=bulk.&page=101');
    assert.match(deep.text, /5,001–5,050 of 5,050\+/);
    const last = await client.get('/admin/audit?action=bulk.&page=102');
    assert.match(last.text, /5,051–5,060 of 5,060</);
    assert.match(last.text, /bulk\.event-0000/);
    assert.doesNotMatch(last.text, /rel="next"/);
  });

  test('audit log lists events newest first, paged, escaped', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const { prisma } = ctx().db;
    const base = Date.now() - 3_600_000;
    await prisma.auditEvent.createMany({
      data: Array.from({ length: 60 }, (_, i) => ({
        action: `test.event-${String(i).padStart(2, '0')}`,
        at: new Date(base + i * 1000),
        details: { note: '<b>x</b>' },
      })),
    });
    const p1 = await client.get('/admin/audit?action=test.');
    assert.match(p1.text, /Page 1 of 2/);
    assert.ok(p1.text.indexOf('test.event-59') < p1.text.indexOf('test.event-58'));
    assert.doesNotMatch(p1.text, /<b>x<\/b>/);
    const p2 = await client.get('/admin/audit?action=test.&page=2');
    assert.match(p2.text, /test\.event-00/);
    assert.doesNotMatch(p2.text, /test\.event-59/);
  });
});
