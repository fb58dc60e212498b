// Mailbox pages through HTTP: list (search, sort, filter, paging), create and edit rules, who may see what,
// Approve / Reject Email, write-only credentials, and delete (revoking the grant at the Google fake).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describeEachDb } from '../helpers/context.ts';
import { startFakeGoogle, googleEnvOf } from '../fakes/google.ts';

const google = await startFakeGoogle();
after(() => google.close());
const env = googleEnvOf(google);
const rand = () => randomBytes(4).toString('hex');
const ZERO_ID = '00000000-0000-4000-8000-000000000000';

describeEachDb(
  'mailboxes',
  (ctx) => {
    const clientId = `${rand()}.apps.googleusercontent.com`;
    before(() => google.addClient({ clientId, clientSecret: 'secret', redirectUris: [] }));
    const prisma = () => ctx().db.prisma;

    const profile = (o: Record<string, unknown> = {}) =>
      prisma().emailServerProfile.create({
        data: {
          name: `Profile ${rand()}`,
          incomingServer: 'imap.gmail.com',
          incomingPort: 993,
          outgoingServer: 'smtp.gmail.com',
          outgoingPort: 587,
          authenticateUsing: 'GMAIL_OAUTH',
          oauthClientId: clientId,
          oauthClientSecret: ctx().sealer.seal('secret', 'profile.oauthClientSecret'),
          ...o,
        },
      });
    const credentialsProfile = () =>
      profile({ authenticateUsing: 'CREDENTIALS_PER_MAILBOX', oauthClientId: null, oauthClientSecret: null });

    /** A mailbox with a real grant minted by the Google fake. */
    async function connectedMailbox(ownerId: string, profileId: string) {
      const email = `conn-${rand()}@gmail.test`;
      google.addAccount({ email });
      const t = google.issueTokensFor(email, clientId);
      const m = await prisma().mailbox.create({
        data: {
          name: email,
          emailAddress: email,
          ownerId,
          profileId,
          emailApproval: 'APPROVED',
          incomingStatus: 'SUCCESS',
          outgoingStatus: 'SUCCESS',
          enabledForIncoming: true,
          enabledForOutgoing: true,
          grant: {
            create: {
              googleEmail: email,
              grantedScopes: 'openid email https://mail.google.com/',
              accessTokenExpiresAt: new Date(Date.now() + 3_600_000),
              accessToken: ctx().sealer.seal(t.access_token, 'grant.accessToken'),
              refreshToken: ctx().sealer.seal(t.refresh_token, 'grant.refreshToken'),
            },
          },
        },
      });
      return { mailbox: m, tokens: t };
    }

    const form = (o: Record<string, string> = {}) => ({
      name: 'Sales',
      emailAddress: `sales-${rand()}@example.com`,
      profileId: '',
      incomingEmail: 'SERVER_SIDE_SYNC',
      outgoingEmail: 'SERVER_SIDE_SYNC',
      ...o,
    });

    test('create: field errors keep input, the address is lowercased and unique, new mailboxes are pending approval', async () => {
      const { client, user } = await ctx().signedIn('ADMIN');
      const p = await profile();
      await client.get('/mailboxes/new');
      const bad = await client.post('/mailboxes', {
        name: '',
        emailAddress: 'not-an-address',
        incomingEmail: 'POP',
        outgoingEmail: 'NONE',
        profileId: 'x',
      });
      assert.equal(bad.status, 422);
      assert.match(bad.text, /Enter a name/);
      assert.match(bad.text, /Enter a valid email address/);
      assert.match(bad.text, /Choose None, Server-Side Synchronization or Email Router/);
      assert.match(bad.text, /value="not-an-address"/);
      const email = `Support-${rand()}@Example.COM`;
      const ok = await client.post(
        '/mailboxes',
        form({
          emailAddress: email,
          profileId: p.id,
          ownerId: user.id,
          incomingEmail: 'EMAIL_ROUTER',
          outgoingEmail: 'NONE',
        }),
      );
      assert.equal(ok.status, 303);
      const m = await prisma().mailbox.findUniqueOrThrow({ where: { emailAddress: email.toLowerCase() } });
      assert.equal(ok.location, `/mailboxes/${m.id}`);
      assert.deepEqual(
        [m.emailApproval, m.incomingEmail, m.outgoingEmail, m.profileId],
        ['PENDING', 'EMAIL_ROUTER', 'NONE', p.id],
      );
      const show = await client.get(ok.location!);
      assert.match(show.text, /Email Router/);
      assert.match(show.text, /Pending Approval/);
      const dup = await client.post('/mailboxes', form({ emailAddress: email.toUpperCase() }));
      assert.equal(dup.status, 422);
      assert.match(dup.text, /A mailbox with this email address already exists/);
      assert.ok(await prisma().auditEvent.findFirst({ where: { action: 'mailbox.create', targetId: m.id } }));
    });

    test("a user's mailbox is always their own: ownerId, role, approval and statuses they send are ignored", async () => {
      const { client, user } = await ctx().signedIn('USER');
      const other = await ctx().user();
      const page = await client.get('/mailboxes/new');
      assert.doesNotMatch(page.text, /name="ownerId"/);
      assert.match(page.text, new RegExp(`value="${user.email.replace('.', '\\.')}"`));
      const email = `mine-${rand()}@example.com`;
      const r = await client.post(
        '/mailboxes',
        form({
          emailAddress: email,
          ownerId: other.id,
          role: 'ADMIN',
          emailApproval: 'APPROVED',
          incomingStatus: 'SUCCESS',
          enabledForIncoming: 'true',
        }),
      );
      assert.equal(r.status, 303);
      const m = await prisma().mailbox.findUniqueOrThrow({ where: { emailAddress: email } });
      assert.deepEqual(
        [m.ownerId, m.emailApproval, m.incomingStatus, m.enabledForIncoming],
        [user.id, 'PENDING', 'NOT_RUN', false],
      );
      await client.get(`/mailboxes/${m.id}/edit`);
      assert.equal(
        (
          await client.post(
            `/mailboxes/${m.id}/edit`,
            form({ emailAddress: email, name: 'Renamed', ownerId: other.id }),
          )
        ).status,
        303,
      );
      assert.equal((await prisma().mailbox.findUniqueOrThrow({ where: { id: m.id } })).ownerId, user.id);
      assert.equal((await prisma().user.findUniqueOrThrow({ where: { id: user.id } })).role, 'USER');
    });

    test("a user asking for another user's mailbox gets 404 on every route; admin-only actions are 403", async () => {
      const { client } = await ctx().signedIn('USER');
      const stranger = await ctx().user();
      const p = await profile();
      const { mailbox: theirs } = await connectedMailbox(stranger.id, p.id);
      await client.get('/mailboxes');
      for (const id of [theirs.id, ZERO_ID, 'not-a-uuid']) {
        for (const path of ['', '/edit', '/delete', '/gmail/signin'])
          assert.equal((await client.get(`/mailboxes/${id}${path}`)).status, 404, `GET ${path} ${id}`);
        for (const path of ['/edit', '/delete', '/gmail/disconnect'])
          assert.equal((await client.post(`/mailboxes/${id}${path}`, form())).status, 404, `POST ${path} ${id}`);
      }
      for (const path of ['/approve', '/reject', '/gmail/token'])
        assert.equal((await client.post(`/mailboxes/${theirs.id}${path}`, {})).status, 403);
      assert.equal((await client.get(`/mailboxes/${theirs.id}/gmail/token`)).status, 403);
      const after = await prisma().mailbox.findUniqueOrThrow({ where: { id: theirs.id }, include: { grant: true } });
      assert.equal(after.name, theirs.name);
      assert.ok(after.grant);
      assert.doesNotMatch((await client.get('/mailboxes')).text, new RegExp(theirs.emailAddress.replace('.', '\\.')));
    });

    test('list: admins see all, users their own; columns, search, sort links, profile filter and paging', async () => {
      const { client: admin } = await ctx().signedIn('ADMIN');
      const { client: userClient, user } = await ctx().signedIn('USER');
      const p = await profile({ name: `Filter ${rand()}` });
      const tag = rand();
      await prisma().mailbox.createMany({
        data: Array.from({ length: 55 }, (_, i) => ({
          name: `List ${tag} ${String(i).padStart(2, '0')}`,
          emailAddress: `list-${tag}-${i}@example.com`,
          ownerId: user.id,
          profileId: i % 2 ? p.id : null,
        })),
      });
      const { mailbox: gm } = await connectedMailbox(user.id, p.id);

      const page1 = await admin.get(`/mailboxes?q=${tag}`);
      for (const h of [
        'Name',
        'Email Address',
        'Server Profile',
        'Incoming Email Status',
        'Outgoing Email Status',
        'Email Address Approval',
        'Enabled',
        'Gmail account',
        'Last Test',
      ]) {
        assert.match(page1.text, new RegExp(`>${h}[ <]`));
      }
      assert.match(page1.text, /Page 1 of 2/);
      assert.match(page1.text, new RegExp(`List ${tag} 00`));
      assert.doesNotMatch(page1.text, new RegExp(`List ${tag} 54`));
      const page2 = await admin.get(`/mailboxes?q=${tag}&page=2`);
      assert.match(page2.text, new RegExp(`List ${tag} 54`));

      const desc = await admin.get(`/mailboxes?q=${tag}&sort=name&dir=desc`);
      assert.ok(desc.text.indexOf(`List ${tag} 54`) < desc.text.indexOf(`List ${tag} 53`));
      assert.match(desc.text, /aria-sort="descending"/);
      assert.match(page1.text, new RegExp(`href="\\?q=${tag}&amp;sort=name&amp;dir=desc"`));
      for (const sort of ['email', 'profile', 'incoming', 'outgoing', 'approval', 'enabled', 'gmail', 'lastTest']) {
        for (const dir of ['asc', 'desc'])
          assert.equal((await admin.get(`/mailboxes?sort=${sort}&dir=${dir}`)).status, 200, `${sort} ${dir}`);
      }
      const byGmail = await admin.get(`/mailboxes?profile=${p.id}&sort=gmail&dir=desc`);
      assert.ok(byGmail.text.indexOf(gm.emailAddress) > 0);

      assert.match(page1.text, /1–50 of 55/);
      assert.match(page1.text, new RegExp(`href="\\?q=${tag}&amp;page=2" rel="next"`));
      assert.match(
        desc.text,
        new RegExp(
          `href="\\?q=${tag}&amp;profile=${p.id}&amp;sort=name&amp;dir=desc" title="Show only this profile's mailboxes"`,
        ),
        "a row's profile link filters the list and keeps the search and sort",
      );
      const both = await admin.get(`/mailboxes?q=${tag}&profile=${p.id}&sort=name&dir=desc`);
      assert.match(both.text, new RegExp(`<a href="\\?q=${tag}&amp;sort=name&amp;dir=desc">Show all mailboxes</a>`));
      assert.match(
        both.text,
        new RegExp(
          `<input type="hidden" name="profile" value="${p.id}"><input type="hidden" name="sort" value="name"><input type="hidden" name="dir" value="desc">`,
        ),
      );
      assert.match(both.text, /1–27 of 27/);
      const filtered = await admin.get(`/mailboxes?profile=${p.id}`);
      assert.match(filtered.text, new RegExp(`Showing mailboxes of the email server profile <strong>${p.name}`));
      assert.doesNotMatch(filtered.text, new RegExp(`List ${tag} 00<`));
      assert.match(filtered.text, new RegExp(`List ${tag} 01<`));
      assert.match(filtered.text, new RegExp(gm.emailAddress.replace('.', '\\.')));

      const mine = await userClient.get(`/mailboxes?q=${tag}`);
      assert.match(mine.text, new RegExp(`List ${tag} 00`));
      const { client: otherUser } = await ctx().signedIn('USER');
      const theirs = await otherUser.get(`/mailboxes?q=${tag}`);
      assert.match(theirs.text, /No mailboxes match/);
    });

    test('changing the address or the profile drops the grant (revoked at Google) and resets approval and statuses; other edits do not', async () => {
      const { client, user } = await ctx().signedIn('ADMIN');
      const p1 = await profile();
      const p2 = await profile();
      const { mailbox: m, tokens } = await connectedMailbox(user.id, p1.id);
      const edit = await client.get(`/mailboxes/${m.id}/edit`);
      assert.match(edit.text, /signs this mailbox out of Gmail/);
      const same = {
        name: 'New name',
        emailAddress: m.emailAddress,
        profileId: p1.id,
        ownerId: user.id,
        incomingEmail: 'SERVER_SIDE_SYNC',
        outgoingEmail: 'SERVER_SIDE_SYNC',
      };
      assert.equal((await client.post(`/mailboxes/${m.id}/edit`, same)).status, 303);
      let now = await prisma().mailbox.findUniqueOrThrow({ where: { id: m.id }, include: { grant: true } });
      assert.deepEqual(
        [now.name, now.emailApproval, now.incomingStatus, !!now.grant],
        ['New name', 'APPROVED', 'SUCCESS', true],
      );

      await client.get(`/mailboxes/${m.id}/edit`);
      assert.equal((await client.post(`/mailboxes/${m.id}/edit`, { ...same, profileId: p2.id })).status, 303);
      now = await prisma().mailbox.findUniqueOrThrow({ where: { id: m.id }, include: { grant: true } });
      assert.deepEqual(
        [now.profileId, now.emailApproval, now.incomingStatus, now.outgoingStatus, now.enabledForIncoming, now.grant],
        [p2.id, 'PENDING', 'NOT_RUN', 'NOT_RUN', false, null],
      );
      assert.deepEqual(google.verifyAccessToken(tokens.access_token), { ok: false, reason: 'revoked' });
      assert.match(
        (await client.get(`/mailboxes/${m.id}`)).text,
        /approval is back to Pending and the test results were reset, and the Gmail sign-in was removed/,
      );

      const { mailbox: m2 } = await connectedMailbox(user.id, p1.id);
      await prisma().mailbox.update({ where: { id: m2.id }, data: { emailApproval: 'APPROVED' } });
      await client.get(`/mailboxes/${m2.id}/edit`);
      assert.equal(
        (await client.post(`/mailboxes/${m2.id}/edit`, { ...same, emailAddress: `moved-${rand()}@gmail.test` })).status,
        303,
      );
      const moved = await prisma().mailbox.findUniqueOrThrow({ where: { id: m2.id }, include: { grant: true } });
      assert.deepEqual([moved.emailApproval, moved.grant], ['PENDING', null]);
    });

    test('Approve Email / Reject Email: admins only, audited; rejecting disables the mailbox', async () => {
      const { client: admin, user: adminUser } = await ctx().signedIn('ADMIN');
      const { client: owner, user } = await ctx().signedIn('USER');
      const p = await profile();
      const { mailbox: m } = await connectedMailbox(user.id, p.id);
      await prisma().mailbox.update({ where: { id: m.id }, data: { emailApproval: 'PENDING' } });
      const ownPage = await owner.get(`/mailboxes/${m.id}`);
      assert.doesNotMatch(ownPage.text, /Approve Email/);
      assert.equal((await owner.post(`/mailboxes/${m.id}/approve`)).status, 403);
      assert.equal((await prisma().mailbox.findUniqueOrThrow({ where: { id: m.id } })).emailApproval, 'PENDING');

      assert.match((await admin.get(`/mailboxes/${m.id}`)).text, /Approve Email/);
      assert.equal((await admin.post(`/mailboxes/${m.id}/approve`)).status, 303);
      assert.equal((await prisma().mailbox.findUniqueOrThrow({ where: { id: m.id } })).emailApproval, 'APPROVED');
      await admin.get(`/mailboxes/${m.id}`);
      assert.equal((await admin.post(`/mailboxes/${m.id}/reject`)).status, 303);
      const rejected = await prisma().mailbox.findUniqueOrThrow({ where: { id: m.id } });
      assert.deepEqual(
        [rejected.emailApproval, rejected.enabledForIncoming, rejected.enabledForOutgoing],
        ['REJECTED', false, false],
      );
      const events = await prisma().auditEvent.findMany({
        where: { targetId: m.id, action: { in: ['mailbox.approve', 'mailbox.reject'] } },
        orderBy: { at: 'asc' },
      });
      assert.deepEqual(
        events.map((e) => [e.action, e.actorId]),
        [
          ['mailbox.approve', adminUser.id],
          ['mailbox.reject', adminUser.id],
        ],
      );
    });

    test('credentials profile: User Name and a write-only Password (blank keeps, the box clears), sealed; no Sign in to Gmail', async () => {
      const { client, user } = await ctx().signedIn('USER');
      const p = await credentialsProfile();
      const email = `creds-${rand()}@example.com`;
      await client.get('/mailboxes/new');
      const r = await client.post(
        '/mailboxes',
        form({
          emailAddress: email,
          profileId: p.id,
          credentialUsername: 'imap-user',
          credentialPassword: 'hunter2-secret',
        }),
      );
      assert.equal(r.status, 303);
      const m = await prisma().mailbox.findUniqueOrThrow({ where: { emailAddress: email } });
      const [raw] = await ctx().db.raw.query<{ credentialPassword: string }>(
        'SELECT "credentialPassword" FROM "Mailbox" WHERE id = $1',
        [m.id],
      );
      assert.match(raw.credentialPassword, /^v1\./);
      assert.equal(ctx().sealer.open(raw.credentialPassword, 'mailbox.credentialPassword'), 'hunter2-secret');
      const show = await client.get(`/mailboxes/${m.id}`);
      assert.match(show.text, /imap-user/);
      assert.match(show.text, /Stored \(not shown\)/);
      assert.doesNotMatch(show.text, /Sign in to Gmail/);
      const edit = await client.get(`/mailboxes/${m.id}/edit`);
      assert.ok(!edit.text.includes('hunter2-secret') && !edit.text.includes(raw.credentialPassword));
      assert.match(edit.text, /A password is stored\. Leave blank to keep it\./);

      const base = {
        name: 'Creds',
        emailAddress: email,
        profileId: p.id,
        incomingEmail: 'SERVER_SIDE_SYNC',
        outgoingEmail: 'SERVER_SIDE_SYNC',
        credentialUsername: 'imap-user2',
      };
      assert.equal((await client.post(`/mailboxes/${m.id}/edit`, { ...base, credentialPassword: '' })).status, 303);
      let now = await prisma().mailbox.findUniqueOrThrow({ where: { id: m.id } });
      assert.equal(now.credentialUsername, 'imap-user2');
      assert.equal(ctx().sealer.open(now.credentialPassword!, 'mailbox.credentialPassword'), 'hunter2-secret');

      const bad = await client.post(`/mailboxes/${m.id}/edit`, {
        ...base,
        name: '',
        credentialPassword: 'new-secret-typed',
      });
      assert.equal(bad.status, 422);
      assert.ok(!bad.text.includes('new-secret-typed'), 'a typed password is never echoed');

      await client.get(`/mailboxes/${m.id}/edit`);
      assert.equal(
        (await client.post(`/mailboxes/${m.id}/edit`, { ...base, clearCredentialPassword: 'on' })).status,
        303,
      );
      now = await prisma().mailbox.findUniqueOrThrow({ where: { id: m.id } });
      assert.equal(now.credentialPassword, null);
      assert.match((await client.get(`/mailboxes/${m.id}`)).text, /Password<\/dt><dd>Not set/);
      assert.ok(!ctx().logs.join('\n').includes('hunter2-secret'));
      const audits = await prisma().auditEvent.findMany({ where: { targetId: m.id } });
      assert.ok(!JSON.stringify(audits).includes('hunter2-secret'));
      assert.equal(user.role, 'USER');
    });

    test('delete asks first, then deletes and revokes the grant at Google', async () => {
      const { client, user } = await ctx().signedIn('USER');
      const p = await profile();
      const { mailbox: m, tokens } = await connectedMailbox(user.id, p.id);
      const confirm = await client.get(`/mailboxes/${m.id}/delete`);
      assert.match(confirm.text, /Delete mailbox/);
      assert.match(confirm.text, /asks Google to revoke the access/);
      assert.ok(await prisma().mailbox.findUnique({ where: { id: m.id } }));
      const r = await client.post(`/mailboxes/${m.id}/delete`);
      assert.equal(r.status, 303);
      assert.equal(r.location, '/mailboxes');
      assert.equal(await prisma().mailbox.findUnique({ where: { id: m.id } }), null);
      assert.equal(await prisma().gmailGrant.count({ where: { mailboxId: m.id } }), 0);
      assert.deepEqual(google.verifyAccessToken(tokens.access_token), { ok: false, reason: 'revoked' });
      assert.match((await client.get('/mailboxes')).text, /deleted\. Google access was revoked/);
      assert.ok(await prisma().auditEvent.findFirst({ where: { action: 'mailbox.delete', targetId: m.id } }));
    });
  },
  { env },
);
