// Admin user management and the audit log page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, TEST_PASSWORD } from '../helpers/context.ts';

describeEachDb('users admin', (ctx) => {
  test('add a user: field errors keep input; duplicate email is a field error; success is audited', async () => {
    const { client, user: admin } = await ctx().signedIn('ADMIN');
    const bad = await client.post('/admin/users', { email: 'bad', name: '', password: 'short', role: 'USER' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /Enter a valid email address/);
    assert.match(bad.text, /Enter a name/);
    assert.match(bad.text, /value="bad"/);
    assert.doesNotMatch(bad.text, /value="short"/);
    const ok = await client.post('/admin/users', { email: 'New.User@Example.com', name: 'New User', password: TEST_PASSWORD, role: 'USER' });
    assert.equal(ok.status, 303);
    const list = await client.get('/admin/users');
    assert.match(list.text, /new\.user@example\.com/);
    assert.match(list.text, /User new\.user@example\.com added/);
    const dup = await client.post('/admin/users', { email: 'new.user@example.com', name: 'Again', password: TEST_PASSWORD, role: 'USER' });
    assert.equal(dup.status, 422);
    assert.match(dup.text, /already exists/);
    const ev = await ctx().db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'user.create', actorId: admin.id } });
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
    const mismatch = await client.post(`/admin/users/${u.id}/password`, { password: 'new password 1', confirmPassword: 'new password 2' });
    assert.equal(mismatch.status, 422);
    assert.match(mismatch.text, /do not match/);
    assert.equal((await client.post(`/admin/users/${u.id}/password`, { password: 'new password 1', confirmPassword: 'new password 1' })).status, 303);
    await ctx().client().login(u.email, 'new password 1');
    assert.ok(await ctx().db.prisma.auditEvent.findFirst({ where: { action: 'user.password-reset', targetId: u.id } }));
  });

  test('audit log lists events newest first, paged, escaped', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const { prisma } = ctx().db;
    const base = Date.now() - 3_600_000;
    await prisma.auditEvent.createMany({ data: Array.from({ length: 60 }, (_, i) => ({ action: `test.event-${String(i).padStart(2, '0')}`, at: new Date(base + i * 1000), details: { note: '<b>x</b>' } })) });
    const p1 = await client.get('/admin/audit?action=test.');
    assert.match(p1.text, /Page 1 of 2/);
    assert.ok(p1.text.indexOf('test.event-59') < p1.text.indexOf('test.event-58'));
    assert.doesNotMatch(p1.text, /<b>x<\/b>/);
    const p2 = await client.get('/admin/audit?action=test.&page=2');
    assert.match(p2.text, /test\.event-00/);
    assert.doesNotMatch(p2.text, /test\.event-59/);
  });
});
