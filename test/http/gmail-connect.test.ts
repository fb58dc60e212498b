// Connect Gmail in one click (a mailbox created from the Google account) and the admins' manual refresh token,
// through HTTP against the Google fake.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describeEachDb } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';
import { startFakeGoogle, googleEnvOf } from '../fakes/google.ts';

const CALLBACK = '/_grid/cmds/dlg_gmailoauth.aspx';
const google = await startFakeGoogle();
after(() => google.close());
const env = googleEnvOf(google);
const rand = () => randomBytes(4).toString('hex');

describeEachDb(
  'Connect Gmail and manual refresh tokens',
  (ctx) => {
    const clientId = `${rand()}.apps.googleusercontent.com`;
    const clientSecret = `GOCSPX-${rand()}`;
    before(() => google.addClient({ clientId, clientSecret, redirectUris: [ctx().config.publicUrl + CALLBACK] }));

    const prisma = () => ctx().db.prisma;
    const gmailProfile = (o: Record<string, unknown> = {}) =>
      prisma().emailServerProfile.create({
        data: {
          name: `Gmail ${rand()}`,
          incomingServer: 'imap.gmail.com',
          incomingPort: 993,
          outgoingServer: 'smtp.gmail.com',
          outgoingPort: 587,
          authenticateUsing: 'GMAIL_OAUTH',
          oauthClientId: clientId,
          oauthClientSecret: ctx().sealer.seal(clientSecret, 'profile.oauthClientSecret'),
          ...o,
        },
      });

    /** Exactly one default Gmail profile at a time, as the profile pages keep it. */
    async function defaultProfile() {
      await prisma().emailServerProfile.updateMany({ data: { isDefaultGmail: false } });
      return gmailProfile({ isDefaultGmail: true });
    }

    async function connect(client: TestClient, accountEmail: string) {
      google.addAccount({ email: accountEmail });
      google.nextAuthorization({ accountEmail });
      const start = await client.get(`/mailboxes/connect-gmail?email=${encodeURIComponent(accountEmail)}`);
      assert.equal(start.status, 302, start.text.slice(0, 400));
      const auth = new URL(start.location!);
      const g = await fetch(auth, { redirect: 'manual' });
      const back = new URL(g.headers.get('location')!);
      return { auth, res: await client.get(back.pathname + back.search) };
    }

    test('a user without a mailbox sees Connect Gmail; it asks for the address, sends it as login_hint, and creates their mailbox on the default profile, pending approval, with the grant', async () => {
      const p = await defaultProfile();
      const { client, user } = await ctx().signedIn('USER');
      assert.match((await client.get('/mailboxes')).text, /href="\/mailboxes\/connect-gmail"/);
      const form = await client.get('/mailboxes/connect-gmail');
      assert.equal(form.status, 200);
      assert.match(form.text, /<label for="f-email">Gmail address/);
      assert.match(form.text, /<form method="get" action="\/mailboxes\/connect-gmail"/);
      const bad = await client.get('/mailboxes/connect-gmail?email=not-an-address');
      assert.equal(bad.status, 422);
      assert.match(bad.text, /id="f-email-error"/);
      assert.match(bad.text, /value="not-an-address"/);
      const email = `Connect-${rand()}@Gmail.test`;
      const { auth, res } = await connect(client, email);
      assert.equal(auth.searchParams.get('login_hint'), email.toLowerCase());
      assert.equal(auth.searchParams.get('client_id'), clientId);
      assert.equal(auth.searchParams.get('prompt'), 'consent');
      assert.equal(res.status, 303, res.text.slice(0, 400));
      const m = await prisma().mailbox.findUniqueOrThrow({
        where: { emailAddress: email.toLowerCase() },
        include: { grant: true },
      });
      assert.equal(res.location, `/mailboxes/${m.id}`);
      assert.equal(m.ownerId, user.id);
      assert.equal(m.profileId, p.id);
      assert.equal(m.emailApproval, 'PENDING');
      assert.equal(m.incomingEmail, 'SERVER_SIDE_SYNC');
      assert.equal(m.outgoingEmail, 'SERVER_SIDE_SYNC');
      assert.equal(m.grant?.googleEmail, email.toLowerCase());
      assert.ok(google.verifyAccessToken(ctx().sealer.open(m.grant!.accessToken, 'grant.accessToken')).ok);
      const page = await client.get(`/mailboxes/${m.id}`);
      assert.match(page.text, /Your mailbox was created/);
      // Another mailbox is offered too, now as a link.
      assert.match((await client.get('/mailboxes')).text, />Connect another Gmail mailbox</);
      const second = `second-${rand()}@gmail.test`;
      assert.equal((await connect(client, second)).res.status, 303);
      assert.equal(await prisma().mailbox.count({ where: { ownerId: user.id } }), 2);
      assert.ok(await prisma().auditEvent.findFirst({ where: { action: 'mailbox.create', targetId: m.id } }));
    });

    test('without a default Gmail profile Connect Gmail says to ask the administrator', async () => {
      await prisma().emailServerProfile.updateMany({ data: { isDefaultGmail: false } });
      const { client } = await ctx().signedIn('USER');
      const r = await client.get('/mailboxes/connect-gmail');
      assert.equal(r.status, 409);
      assert.match(r.text, /Ask your administrator to choose a default Gmail profile/);
    });

    test('an address that already has a mailbox is refused; its new token is revoked unless it would kill a working grant', async () => {
      await defaultProfile();
      const owner = await ctx().user();
      const email = `taken-${rand()}@gmail.test`;
      await prisma().mailbox.create({ data: { name: 'Taken', emailAddress: email, ownerId: owner.id } });
      const { client } = await ctx().signedIn('USER');
      const revocations = google.stats().revocations;
      const { res } = await connect(client, email);
      assert.equal(res.status, 400);
      assert.match(res.text, /already exists in Mailroom/);
      assert.equal(await prisma().mailbox.count({ where: { emailAddress: email } }), 1);
      assert.equal(google.stats().revocations, revocations + 1);

      // Same account already connected through this client on another mailbox: revoking would revoke that grant too.
      const p = await defaultProfile();
      const email2 = `connected-${rand()}@gmail.test`;
      google.addAccount({ email: email2 });
      const t = google.issueTokensFor(email2, clientId);
      await prisma().mailbox.create({
        data: {
          name: 'Connected',
          emailAddress: email2,
          ownerId: owner.id,
          profileId: p.id,
          grant: {
            create: {
              googleEmail: email2,
              grantedScopes: 'openid email https://mail.google.com/',
              accessTokenExpiresAt: new Date(Date.now() + 3_600_000),
              accessToken: ctx().sealer.seal(t.access_token, 'grant.accessToken'),
              refreshToken: ctx().sealer.seal(t.refresh_token, 'grant.refreshToken'),
            },
          },
        },
      });
      const { client: c2 } = await ctx().signedIn('USER');
      const again = await connect(c2, email2);
      assert.equal(again.res.status, 400);
      assert.ok(google.verifyAccessToken(t.access_token).ok, 'the existing mailbox keeps working');
    });

    test('a full default profile refuses Connect Gmail, at the start and at the callback', async () => {
      const p = await defaultProfile();
      const owner = await ctx().user();
      await prisma().mailbox.createMany({
        data: Array.from({ length: 99 }, (_, i) => ({
          name: `Fill ${i}`,
          emailAddress: `fill-${i}-${rand()}@x.test`,
          ownerId: owner.id,
          profileId: p.id,
        })),
      });
      const { client } = await ctx().signedIn('USER');
      const email = `late-${rand()}@gmail.test`;
      google.addAccount({ email });
      google.nextAuthorization({ accountEmail: email });
      const start = await client.get(`/mailboxes/connect-gmail?email=${email}`);
      assert.equal(start.status, 302);
      await prisma().mailbox.create({
        data: { name: 'The 100th', emailAddress: `hundred-${rand()}@x.test`, ownerId: owner.id, profileId: p.id },
      });
      const g = await fetch(new URL(start.location!), { redirect: 'manual' });
      const back = new URL(g.headers.get('location')!);
      const revocations = google.stats().revocations;
      const res = await client.get(back.pathname + back.search);
      assert.equal(res.status, 400);
      assert.match(res.text, /already serves 100 mailboxes\. Ask your administrator to create another Gmail profile/);
      // The refusal is also a banner at the top, as the forms show theirs.
      assert.match(
        res.text,
        /<div class="flash flash-error" role="alert">The Gmail profile “[^”]+” already serves 100 mailboxes/,
      );
      assert.doesNotMatch(res.text, /Connect Gmail again/, 'starting again cannot help');
      assert.equal(await prisma().mailbox.count({ where: { profileId: p.id } }), 100);
      assert.equal(google.stats().revocations, revocations + 1);
      const refused = await client.get('/mailboxes/connect-gmail');
      assert.equal(refused.status, 409);
      assert.match(refused.text, /already serves 100 mailboxes/);
      assert.match(refused.text, /<div class="flash flash-error" role="alert">No mailbox was created/);
    });

    test('an administrator is offered Connect Gmail too', async () => {
      await defaultProfile();
      const { client } = await ctx().signedIn('ADMIN');
      assert.match(
        (await client.get('/mailboxes')).text,
        /href="\/mailboxes\/connect-gmail">Connect another Gmail mailbox</,
      );
      assert.equal((await client.get('/mailboxes/connect-gmail')).status, 200);
    });

    async function mailboxWithAccount(profileId: string) {
      const owner = await ctx().user();
      const email = `manual-${rand()}@gmail.test`;
      google.addAccount({ email });
      return prisma().mailbox.create({ data: { name: 'Manual', emailAddress: email, ownerId: owner.id, profileId } });
    }

    test('manual refresh token: admins only; checked against Google before it is stored; never shown again', async () => {
      const p = await gmailProfile();
      const m = await mailboxWithAccount(p.id);
      const { client: userClient } = await ctx().signedIn('USER');
      assert.equal((await userClient.get(`/mailboxes/${m.id}/gmail/token`)).status, 403);
      assert.equal(
        (await userClient.post(`/mailboxes/${m.id}/gmail/token`, { refreshToken: 'x', googleEmail: m.emailAddress }))
          .status,
        403,
      );

      const { client } = await ctx().signedIn('ADMIN');
      const form = await client.get(`/mailboxes/${m.id}/gmail/token`);
      assert.match(form.text, new RegExp(`value="${m.emailAddress}"`));

      const bad = await client.post(`/mailboxes/${m.id}/gmail/token`, {
        refreshToken: '1//0g-not-a-real-token',
        googleEmail: m.emailAddress,
      });
      assert.equal(bad.status, 422);
      assert.match(bad.text, /invalid_grant/);
      assert.ok(!bad.text.includes('1//0g-not-a-real-token'));

      const other = `someone-${rand()}@gmail.test`;
      google.addAccount({ email: other });
      const foreign = google.issueTokensFor(other, clientId);
      const wrong = await client.post(`/mailboxes/${m.id}/gmail/token`, {
        refreshToken: foreign.refresh_token,
        googleEmail: m.emailAddress,
      });
      assert.equal(wrong.status, 422);
      assert.match(wrong.text, new RegExp(`belongs to ${other.replace('.', '\\.')}`));

      const noMail = google.issueTokensFor(m.emailAddress, clientId, { scopes: ['openid', 'email'] });
      const scopeless = await client.post(`/mailboxes/${m.id}/gmail/token`, {
        refreshToken: noMail.refresh_token,
        googleEmail: m.emailAddress,
      });
      assert.equal(scopeless.status, 422);
      assert.match(scopeless.text, /does not grant access to Gmail/);
      assert.equal(await prisma().gmailGrant.count({ where: { mailboxId: m.id } }), 0);

      const good = google.issueTokensFor(m.emailAddress, clientId);
      const ok = await client.post(`/mailboxes/${m.id}/gmail/token`, {
        refreshToken: good.refresh_token,
        googleEmail: m.emailAddress,
      });
      assert.equal(ok.status, 303, ok.text.slice(0, 400));
      const [raw] = await ctx().db.raw.query<{ refreshToken: string; accessToken: string }>(
        'SELECT "refreshToken", "accessToken" FROM "GmailGrant" WHERE "mailboxId" = $1',
        [m.id],
      );
      assert.ok(!raw.refreshToken.includes(good.refresh_token));
      assert.equal(ctx().sealer.open(raw.refreshToken, 'grant.refreshToken'), good.refresh_token);
      assert.ok(google.verifyAccessToken(ctx().sealer.open(raw.accessToken, 'grant.accessToken')).ok);
      const page = await client.get(`/mailboxes/${m.id}`);
      assert.match(page.text, /checked with Google and saved/);
      for (const t of [good.refresh_token, foreign.refresh_token, noMail.refresh_token]) {
        assert.ok(
          ![page.text, ok.text, wrong.text, scopeless.text, ctx().logs.join('\n')].some((x) => x.includes(t)),
          'a pasted token leaked',
        );
      }
      const ev = await prisma().auditEvent.findFirstOrThrow({ where: { action: 'gmail.connect', targetId: m.id } });
      assert.equal((ev.details as { via: string }).via, 'refresh-token');
    });

    test('manual refresh token without the email scope trusts the address the admin gives', async () => {
      const p = await gmailProfile();
      const m = await mailboxWithAccount(p.id);
      const { client } = await ctx().signedIn('ADMIN');
      await client.get(`/mailboxes/${m.id}/gmail/token`);
      const t = google.issueTokensFor(m.emailAddress, clientId, { scopes: ['https://mail.google.com/'] });
      const r = await client.post(`/mailboxes/${m.id}/gmail/token`, {
        refreshToken: t.refresh_token,
        googleEmail: `Alias-${m.emailAddress}`,
      });
      assert.equal(r.status, 303);
      assert.equal(
        (await prisma().gmailGrant.findUniqueOrThrow({ where: { mailboxId: m.id } })).googleEmail,
        `alias-${m.emailAddress}`,
      );
    });
  },
  { env },
);
