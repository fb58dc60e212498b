// Who may use the profile pages (admins only), CSRF on every POST, and HTML escaping of a hostile profile name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import { sampleProfileForm } from '../../src/profiles/sample.ts';

const EVIL = '<script>alert(1)</script>';
const EVIL_ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;';

describeEachDb('email server profile access', (ctx) => {
  let profileId = '';

  test('setup: an admin creates a profile with a hostile name', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    await client.get('/profiles/new');
    const res = await client.post('/profiles', sampleProfileForm({ name: EVIL }));
    assert.equal(res.status, 303);
    profileId = res.location!.split('/').pop()!;
  });

  test('a signed-out visitor is sent to sign in', async () => {
    const res = await ctx().client().get('/profiles');
    assert.equal(res.status, 303);
    assert.equal(res.location, '/login');
  });

  test('a USER gets 403 on every profile route, GET and POST, and changes nothing', async () => {
    const { client } = await ctx().signedIn('USER');
    const gets = [
      '/profiles',
      '/profiles/new',
      '/profiles/new?preset=gmail-imap',
      `/profiles/${profileId}`,
      `/profiles/${profileId}/edit`,
      `/profiles/${profileId}/delete`,
    ];
    for (const path of gets) assert.equal((await client.get(path)).status, 403, `GET ${path}`);
    assert.ok(client.csrf, 'the USER holds a valid CSRF token, so 403 comes from the role check');
    const posts: [string, Record<string, string>][] = [
      ['/profiles', sampleProfileForm({ name: 'By a user' })],
      [`/profiles/${profileId}`, sampleProfileForm({ name: 'Renamed by a user' })],
      [`/profiles/${profileId}/delete`, {}],
    ];
    for (const [path, form] of posts) assert.equal((await client.post(path, form)).status, 403, `POST ${path}`);
    const { prisma } = ctx().db;
    assert.equal(await prisma.emailServerProfile.count(), 1);
    assert.equal((await prisma.emailServerProfile.findUniqueOrThrow({ where: { id: profileId } })).name, EVIL);
  });

  test('every POST needs the CSRF token (403 without it)', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    await client.get(`/profiles/${profileId}/edit`);
    const posts: [string, Record<string, string>][] = [
      ['/profiles', sampleProfileForm({ name: 'No token' })],
      [`/profiles/${profileId}`, sampleProfileForm({ name: 'No token rename' })],
      [`/profiles/${profileId}/delete`, {}],
    ];
    for (const [path, form] of posts) {
      assert.equal((await client.post(path, form, { csrf: false })).status, 403, `POST ${path} without token`);
      assert.equal(
        (await client.post(path, { ...form, _csrf: 'forged' })).status,
        403,
        `POST ${path} with a forged token`,
      );
    }
    assert.equal(await ctx().db.prisma.emailServerProfile.count(), 1);
  });

  test('the hostile name is escaped on the list, view, edit, delete confirmation, flash and error re-render', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const pages = {
      list: await client.get('/profiles'),
      view: await client.get(`/profiles/${profileId}`),
      edit: await client.get(`/profiles/${profileId}/edit`),
      delete: await client.get(`/profiles/${profileId}/delete`),
    };
    const rerender = await client.post(
      `/profiles/${profileId}`,
      sampleProfileForm({ name: EVIL, incomingPort: 'bad' }),
    );
    assert.equal(rerender.status, 422);
    await client.get(`/profiles/${profileId}/edit`);
    await client.post(
      `/profiles/${profileId}`,
      sampleProfileForm({ name: EVIL, description: 'touch', oauthClientSecret: '' }),
    );
    const flashPage = await client.get(`/profiles/${profileId}`);
    assert.ok(flashPage.text.includes(`Email server profile ${EVIL_ESCAPED} saved`));
    for (const [name, res] of Object.entries({ ...pages, rerender, flashPage })) {
      assert.ok(!res.text.includes(EVIL), `${name} has the raw name`);
      assert.ok(res.text.includes(EVIL_ESCAPED), `${name} lacks the escaped name`);
    }
  });

  test('no request failed on the server (no error logs)', () => {
    assert.deepEqual(
      ctx().logs.filter((l) => l.includes('"level":50')),
      [],
    );
  });
});
