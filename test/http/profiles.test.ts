// Email server profiles: create, view, edit, delete; the write-only Client Secret; default Gmail profile; audit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb, type TestContext } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';
import { sampleProfileForm } from '../../src/profiles/sample.ts';

const SECRET = 'GOCSPX-super-secret-value-42';

async function create(client: TestClient, over: Record<string, string>): Promise<string> {
  await client.get('/profiles/new');
  const res = await client.post('/profiles', sampleProfileForm({ oauthClientSecret: SECRET, ...over }));
  assert.equal(res.status, 303, `create ${over.name}: ${res.status} ${res.text.slice(0, 2000)}`);
  const m = /^\/profiles\/([0-9a-f-]{36})$/.exec(res.location ?? '');
  assert.ok(m, `unexpected location ${res.location}`);
  return m[1];
}

async function sealedSecret(ctx: TestContext, id: string): Promise<string | null> {
  const rows = await ctx.db.raw.query<{ oauthClientSecret: string | null }>(
    'SELECT "oauthClientSecret" FROM "EmailServerProfile" WHERE id = $1',
    [id],
  );
  return rows[0].oauthClientSecret;
}

describeEachDb('email server profiles', (ctx) => {
  test('create, view, edit and list never show the Client Secret; the database holds ciphertext only', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const pages: string[] = [];
    await client.get('/profiles/new');
    const created = await client.post('/profiles', sampleProfileForm({ name: 'Secretive', oauthClientSecret: SECRET }));
    assert.equal(created.status, 303);
    const id = created.location!.split('/').pop()!;
    const view = await client.get(`/profiles/${id}`);
    pages.push(created.text, view.text);
    assert.equal(view.status, 200);
    assert.match(view.text, /Email server profile Secretive created/);
    assert.match(view.text, /<dt>Client Secret<\/dt><dd>set<\/dd>/);
    const edit = await client.get(`/profiles/${id}/edit`);
    pages.push(edit.text);
    assert.match(edit.text, /Stored: set\. Leave blank to keep it/);
    assert.match(edit.text, /name="oauthClientSecret" type="password" value=""/);
    const bad = await client.post(
      `/profiles/${id}`,
      sampleProfileForm({ name: 'Secretive', incomingPort: 'x', oauthClientSecret: SECRET }),
    );
    assert.equal(bad.status, 422);
    pages.push(bad.text);
    const badNew = await client.post('/profiles', sampleProfileForm({ name: '', oauthClientSecret: SECRET }));
    assert.equal(badNew.status, 422);
    pages.push(badNew.text);
    pages.push((await client.get('/profiles')).text, (await client.get(`/profiles/${id}/delete`)).text);
    pages.push((await client.get(`/profiles/${id}`, { accept: 'application/json' })).text);

    const [row] = await ctx().db.raw.query<{ oauthClientSecret: string }>(
      'SELECT "oauthClientSecret" FROM "EmailServerProfile"',
    );
    assert.ok(row.oauthClientSecret.startsWith('v1.'));
    assert.ok(!row.oauthClientSecret.includes(SECRET));
    assert.equal(ctx().sealer.open(row.oauthClientSecret, 'profile.oauthClientSecret'), SECRET);
    for (const text of pages) {
      assert.ok(!text.includes(SECRET), 'a page shows the secret');
      assert.ok(!text.includes(row.oauthClientSecret), 'a page shows the sealed secret');
    }
    assert.ok(!ctx().logs.join('').includes(SECRET), 'the logs hold the secret');
    const events = await ctx().db.prisma.auditEvent.findMany({ where: { targetId: id } });
    assert.ok(!JSON.stringify(events).includes(SECRET));
    // A new secret is checked at Google at once (Verify client); the check's entry holds no secret either.
    assert.deepEqual(events.map((e) => e.action).sort(), [
      'profile.create',
      'profile.secret-set',
      'profile.verify-client',
    ]);
  });

  test('blank secret on edit keeps it; a new one replaces it; "Clear" removes it', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const id = await create(client, { name: 'Keeper' });
    const first = await sealedSecret(ctx(), id);
    await client.get(`/profiles/${id}/edit`);
    assert.equal(
      (
        await client.post(
          `/profiles/${id}`,
          sampleProfileForm({ name: 'Keeper', oauthClientSecret: '', description: 'changed' }),
        )
      ).status,
      303,
    );
    assert.equal(await sealedSecret(ctx(), id), first);

    const refused = await client.post(
      `/profiles/${id}`,
      sampleProfileForm({ name: 'Keeper', oauthClientSecret: '', clearClientSecret: 'on' }),
    );
    assert.equal(refused.status, 422);
    assert.match(refused.text, /Enter a new Client Secret, or untick/);
    assert.equal(await sealedSecret(ctx(), id), first);

    assert.equal(
      (
        await client.post(
          `/profiles/${id}`,
          sampleProfileForm({ name: 'Keeper', oauthClientSecret: 'GOCSPX-replacement' }),
        )
      ).status,
      303,
    );
    const replaced = (await sealedSecret(ctx(), id))!;
    assert.notEqual(replaced, first);
    assert.equal(ctx().sealer.open(replaced, 'profile.oauthClientSecret'), 'GOCSPX-replacement');

    await client.get(`/profiles/${id}/edit`);
    const cleared = await client.post(
      `/profiles/${id}`,
      sampleProfileForm({
        name: 'Keeper',
        authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
        oauthClientSecret: '',
        clearClientSecret: 'on',
      }),
    );
    assert.equal(cleared.status, 303);
    assert.equal(await sealedSecret(ctx(), id), null);
    const view = await client.get(`/profiles/${id}`);
    assert.match(view.text, /<dt>Client Secret<\/dt><dd>not set<\/dd>/);
    const actions = (
      await ctx().db.prisma.auditEvent.findMany({ where: { targetId: id }, orderBy: { at: 'asc' } })
    ).map((e) => e.action);
    assert.deepEqual(
      actions.filter((a) => a.startsWith('profile.secret')),
      ['profile.secret-set', 'profile.secret-set', 'profile.secret-cleared'],
    );
  });

  test('edit saves every field, audits the changed field names only, and a no-op save changes nothing', async () => {
    const { client, user } = await ctx().signedIn('ADMIN');
    const id = await create(client, { name: 'Editable' });
    await client.get(`/profiles/${id}/edit`);
    const saved = await client.post(
      `/profiles/${id}`,
      sampleProfileForm({
        name: 'Edited',
        description: 'Line one',
        serverType: 'POP3',
        incomingServer: 'pop.gmail.com',
        incomingPort: '995',
        incomingUseSsl: '',
        outgoingPort: '465',
        outgoingSecurity: 'SSL',
        oauthClientSecret: '',
        maxConcurrentConnections: '300',
        minPollingIntervalMinutes: '1440',
        processEmailFrom: '2024-02-29',
        moveFailedToUndeliverable: 'on',
      }),
    );
    assert.equal(saved.status, 303);
    const p = await ctx().db.prisma.emailServerProfile.findUniqueOrThrow({ where: { id } });
    assert.equal(p.name, 'Edited');
    assert.equal(p.serverType, 'POP3');
    assert.equal(p.incomingUseSsl, false);
    assert.equal(p.outgoingSecurity, 'SSL');
    assert.equal(p.processEmailFrom?.toISOString(), '2024-02-29T00:00:00.000Z');
    assert.equal(p.moveFailedToUndeliverable, true);
    assert.equal(p.ownerId, user.id);
    const ev = await ctx().db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'profile.update', targetId: id } });
    assert.deepEqual((ev.details as { changed: string[] }).changed.sort(), [
      'description',
      'incomingPort',
      'incomingServer',
      'incomingUseSsl',
      'maxConcurrentConnections',
      'minPollingIntervalMinutes',
      'moveFailedToUndeliverable',
      'name',
      'outgoingPort',
      'outgoingSecurity',
      'processEmailFrom',
      'serverType',
    ]);
    assert.equal(ev.actorId, user.id);
    const view = await client.get(`/profiles/${id}`);
    assert.match(view.text, /POP3\/SMTP Server/);
    assert.match(view.text, /2024-02-29/);
    const edit = await client.get(`/profiles/${id}/edit`);
    assert.match(edit.text, /id="f-processEmailFrom" name="processEmailFrom" type="date" value="2024-02-29"/);
    assert.doesNotMatch(edit.text, /id="f-incomingUseSsl" name="incomingUseSsl" value="on" checked/);
    assert.match(edit.text, /id="f-moveFailedToUndeliverable" name="moveFailedToUndeliverable" value="on" checked/);

    const before = await ctx().db.prisma.emailServerProfile.findUniqueOrThrow({ where: { id } });
    const same = await client.post(
      `/profiles/${id}`,
      sampleProfileForm({
        name: 'Edited',
        description: 'Line one',
        serverType: 'POP3',
        incomingServer: 'pop.gmail.com',
        incomingPort: '995',
        incomingUseSsl: '',
        outgoingPort: '465',
        outgoingSecurity: 'SSL',
        oauthClientSecret: '',
        maxConcurrentConnections: '300',
        minPollingIntervalMinutes: '1440',
        processEmailFrom: '2024-02-29',
        moveFailedToUndeliverable: 'on',
      }),
    );
    assert.equal(same.status, 303);
    const after = await ctx().db.prisma.emailServerProfile.findUniqueOrThrow({ where: { id } });
    assert.equal(after.updatedAt.getTime(), before.updatedAt.getTime());
    assert.equal(await ctx().db.prisma.auditEvent.count({ where: { action: 'profile.update', targetId: id } }), 1);
  });

  test('delete is refused while mailboxes use the profile, naming how many; then it deletes', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const { prisma } = ctx().db;
    const id = await create(client, { name: 'In use' });
    const owner = await ctx().user();
    const boxes = await Promise.all(
      [1, 2].map((i) =>
        prisma.mailbox.create({
          data: { name: `Box ${i}`, emailAddress: `inuse${i}@example.com`, ownerId: owner.id, profileId: id },
        }),
      ),
    );
    const confirm = await client.get(`/profiles/${id}/delete`);
    assert.match(confirm.text, /used by 2 mailboxes, so it cannot be deleted/);
    assert.doesNotMatch(confirm.text, /action="\/profiles\/[^"]+\/delete"/);
    const refused = await client.post(`/profiles/${id}/delete`);
    assert.equal(refused.status, 303);
    assert.equal(refused.location, `/profiles/${id}`);
    assert.match(
      (await client.get(`/profiles/${id}`)).text,
      /is used by 2 mailboxes\. Move them to another profile before deleting it\./,
    );
    assert.ok(await prisma.emailServerProfile.findUnique({ where: { id } }));
    assert.ok(
      await prisma.auditEvent.findFirst({ where: { action: 'profile.delete', targetId: id, result: 'FAILURE' } }),
    );

    await prisma.mailbox.deleteMany({ where: { id: { in: boxes.map((b) => b.id) } } });
    const page = await client.get(`/profiles/${id}/delete`);
    assert.match(page.text, /It cannot be undone/);
    const done = await client.post(`/profiles/${id}/delete`);
    assert.equal(done.status, 303);
    assert.equal(done.location, '/profiles');
    assert.equal(await prisma.emailServerProfile.findUnique({ where: { id } }), null);
    assert.match((await client.get('/profiles')).text, /Email server profile In use deleted/);
    assert.ok(
      await prisma.auditEvent.findFirst({ where: { action: 'profile.delete', targetId: id, result: 'SUCCESS' } }),
    );
  });

  test('the view page shows the mailbox count, as "N of 100" for Gmail OAuth, linked to the mailbox list', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const id = await create(client, { name: 'Counted' });
    const owner = await ctx().user();
    for (const i of [1, 2, 3])
      await ctx().db.prisma.mailbox.create({
        data: { name: `C${i}`, emailAddress: `counted${i}@example.com`, ownerId: owner.id, profileId: id },
      });
    const view = await client.get(`/profiles/${id}`);
    assert.match(
      view.text,
      new RegExp(`Mailboxes using this profile: <a href="/mailboxes\\?profile=${id}">3 of 100</a>`),
    );
    const other = await create(client, {
      name: 'Counted creds',
      authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
      oauthClientId: '',
      oauthClientSecret: '',
    });
    assert.match((await client.get(`/profiles/${other}`)).text, new RegExp(`profile=${other}">0</a>`));
  });

  test('at most one default profile for Connect Gmail: setting it clears the others', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const { prisma } = ctx().db;
    const a = await create(client, { name: 'Default A', isDefaultGmail: 'on' });
    const b = await create(client, { name: 'Default B' });
    assert.equal((await prisma.emailServerProfile.findUniqueOrThrow({ where: { id: a } })).isDefaultGmail, true);
    await client.get(`/profiles/${b}/edit`);
    assert.equal(
      (
        await client.post(
          `/profiles/${b}`,
          sampleProfileForm({ name: 'Default B', oauthClientSecret: '', isDefaultGmail: 'on' }),
        )
      ).status,
      303,
    );
    const defaults = await prisma.emailServerProfile.findMany({
      where: { isDefaultGmail: true },
      select: { id: true },
    });
    assert.deepEqual(
      defaults.map((d) => d.id),
      [b],
    );
    const ev = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'profile.update', targetId: a } });
    assert.deepEqual((ev.details as { changed: string[] }).changed, ['isDefaultGmail']);
    assert.match((await client.get(`/profiles/${b}`)).text, /Default profile for Connect Gmail<\/span>/);
  });

  test('concurrent saves that each set the default leave exactly one default', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    const ids: string[] = [];
    for (const i of [1, 2, 3, 4]) ids.push(await create(client, { name: `Race ${i}` }));
    await client.get(`/profiles/${ids[0]}/edit`);
    const results = await Promise.all(
      ids.map((id, i) =>
        client.post(
          `/profiles/${id}`,
          sampleProfileForm({ name: `Race ${i + 1}`, oauthClientSecret: '', isDefaultGmail: 'on' }),
        ),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      [303, 303, 303, 303],
    );
    assert.equal(await ctx().db.prisma.emailServerProfile.count({ where: { isDefaultGmail: true } }), 1);
  });

  test('unknown or malformed ids answer 404', async () => {
    const { client } = await ctx().signedIn('ADMIN');
    assert.equal((await client.get('/profiles/not-a-uuid')).status, 404);
    assert.equal((await client.get('/profiles/00000000-0000-4000-8000-000000000000/edit')).status, 404);
    assert.equal((await client.post('/profiles/00000000-0000-4000-8000-000000000000/delete')).status, 404);
  });

  test('no request failed on the server (no error logs)', () => {
    assert.deepEqual(
      ctx().logs.filter((l) => l.includes('"level":50')),
      [],
    );
  });
});
