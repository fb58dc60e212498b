// Sign in to Gmail through HTTP against the Google fake: the authorization request, the callback's checks,
// storing sealed tokens, several flows at once, and Disconnect.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeEachDb } from '../helpers/context.ts';
import type { TestClient, Res } from '../helpers/client.ts';
import { startFakeGoogle } from '../fakes/google.ts';

const CALLBACK = '/_grid/cmds/dlg_gmailoauth.aspx';
const google = await startFakeGoogle();

/** Google's token and revoke endpoints behind a switchable proxy: drop refresh_token, or fail revocation. */
const proxyCtl = { stripRefresh: false, failRevoke: false };
const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
  void (async () => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.url?.startsWith('/revoke') && proxyCtl.failRevoke) {
      res.writeHead(503, { 'content-type': 'application/json' });
      return res.end('{"error":"backend_error"}');
    }
    const target = req.url?.startsWith('/revoke') ? google.endpoints.revoke : google.endpoints.token;
    const up = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body: Buffer.concat(chunks),
    });
    let text = await up.text();
    if (proxyCtl.stripRefresh && up.ok && !req.url?.startsWith('/revoke')) {
      const j = JSON.parse(text);
      delete j.refresh_token;
      text = JSON.stringify(j);
    }
    res.writeHead(up.status, { 'content-type': 'application/json' });
    res.end(text);
  })();
});
await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
after(async () => {
  proxy.closeAllConnections();
  proxy.close();
  await google.close();
});

const env = {
  GOOGLE_AUTHORIZATION_URL: google.endpoints.authorization,
  GOOGLE_TOKEN_URL: `${proxyUrl}/token`,
  GOOGLE_USERINFO_URL: google.endpoints.userinfo,
  GOOGLE_REVOKE_URL: `${proxyUrl}/revoke`,
};

const rand = () => randomBytes(4).toString('hex');

describeEachDb(
  'Sign in to Gmail',
  (ctx) => {
    const clientId = `${rand()}.apps.googleusercontent.com`;
    const clientSecret = `GOCSPX-${rand()}`;
    before(() => google.addClient({ clientId, clientSecret, redirectUris: [ctx().config.publicUrl + CALLBACK] }));

    async function profile(o: Record<string, unknown> = {}) {
      return ctx().db.prisma.emailServerProfile.create({
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
    }

    async function mailbox(ownerId: string, profileId: string | null, email = `mb-${rand()}@gmail.test`) {
      google.addAccount({ email });
      return ctx().db.prisma.mailbox.create({ data: { name: email, emailAddress: email, ownerId, profileId } });
    }

    /** A signed-in USER with a mailbox on a fresh Gmail profile. */
    async function setup() {
      const { client, user } = await ctx().signedIn('USER');
      const p = await profile();
      const m = await mailbox(user.id, p.id);
      return { client, user, profile: p, mailbox: m };
    }

    /** Sign in to Gmail → Google (auto consent) → the URL Google sends the browser back to. */
    async function toGoogle(
      client: TestClient,
      path: string,
      headers?: Record<string, string>,
    ): Promise<{ start: Res; auth: URL; back: URL }> {
      const start = await client.get(path, headers);
      assert.equal(start.status, 302, `start: ${start.status} ${start.text.slice(0, 300)}`);
      const auth = new URL(start.location!);
      seen.add(auth.searchParams.get('state')!);
      const g = await fetch(auth, { redirect: 'manual' }).catch((e: Error) => {
        throw new Error(`fetch ${auth}: ${String(e.cause)}`);
      });
      assert.equal(g.status, 302, `google: ${g.status} ${await g.text()}`);
      const back = new URL(g.headers.get('location')!);
      if (back.searchParams.get('code')) seen.add(back.searchParams.get('code')!);
      return { start, auth, back };
    }

    /** Every state and code of the suite, and every page: none of them may show up where they should not. */
    const seen = new Set<string>();
    const pages: string[] = [];
    const finish = async (client: TestClient, back: URL) => {
      const r = await client.get(back.pathname + back.search);
      pages.push(r.text, r.location ?? '');
      return r;
    };

    test('the authorization request carries the profile client, PUBLIC_URL redirect, state, PKCE S256, offline, consent, login_hint', async () => {
      const { client, mailbox: m } = await setup();
      const { auth, back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      assert.equal(auth.origin + auth.pathname, google.endpoints.authorization);
      const q = auth.searchParams;
      assert.equal(q.get('client_id'), clientId);
      assert.equal(q.get('redirect_uri'), ctx().config.publicUrl + CALLBACK);
      assert.equal(q.get('response_type'), 'code');
      assert.deepEqual(q.get('scope')!.split(' ').sort(), ['email', 'https://mail.google.com/', 'openid']);
      assert.match(q.get('state')!, /^[A-Za-z0-9_-]{20,}$/);
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(q.get('access_type'), 'offline');
      assert.equal(q.get('prompt'), 'consent');
      assert.equal(q.get('login_hint'), m.emailAddress);
      assert.equal(back.origin + back.pathname, ctx().config.publicUrl + CALLBACK);
    });

    test('success: tokens sealed and stored, audited, 303 with a message, no-store, the app user unchanged', async () => {
      const { client, user, mailbox: m } = await setup();
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      const res = await finish(client, back);
      assert.equal(res.status, 303, res.text.slice(0, 500));
      assert.equal(res.location, `/mailboxes/${m.id}`);
      assert.match(res.headers.get('cache-control') ?? '', /no-store/);
      const page = await client.get(`/mailboxes/${m.id}`);
      assert.match(page.text, new RegExp(`Signed in to Gmail as ${m.emailAddress.replace('.', '\\.')}`));
      assert.match(page.text, /Access token expires/);
      assert.match(page.text, new RegExp(`${user.name} \\(User\\)`)); // still the same Mailroom user

      const grant = await ctx().db.prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId: m.id } });
      assert.equal(grant.googleEmail, m.emailAddress);
      assert.match(grant.grantedScopes, /https:\/\/mail\.google\.com\//);
      assert.equal(grant.needsReconsent, false);
      assert.ok(grant.accessTokenExpiresAt.getTime() > Date.now() + 3000_000);
      const [raw] = await ctx().db.raw.query<{ accessToken: string; refreshToken: string }>(
        'SELECT "accessToken", "refreshToken" FROM "GmailGrant" WHERE "mailboxId" = $1',
        [m.id],
      );
      assert.match(raw.accessToken, /^v1\./);
      assert.match(raw.refreshToken, /^v1\./);
      const access = ctx().sealer.open(raw.accessToken, 'grant.accessToken');
      const refresh = ctx().sealer.open(raw.refreshToken, 'grant.refreshToken');
      assert.ok(!raw.accessToken.includes(access) && !raw.refreshToken.includes(refresh));
      const check = google.verifyAccessToken(access);
      assert.ok(check.ok && check.email === m.emailAddress);

      const ev = await ctx().db.prisma.auditEvent.findFirstOrThrow({
        where: { action: 'gmail.connect', targetId: m.id, result: 'SUCCESS' },
      });
      assert.equal((ev.details as { googleEmail: string }).googleEmail, m.emailAddress);
      assert.match((ev.details as { scopes: string }).scopes, /mail\.google\.com/);

      const code = back.searchParams.get('code')!;
      const everything = [res.text, res.location ?? '', page.text, JSON.stringify(ev), ctx().logs.join('\n')].join(
        '\n',
      );
      for (const secret of [access, refresh, code, clientSecret])
        assert.ok(!everything.includes(secret), 'a token, code or secret leaked');
    });

    /** The stored grant's columns as raw SQL sees them (null when there is none). */
    async function rawGrant(mailboxId: string) {
      const [row] = await ctx().db.raw.query<{
        accessToken: string;
        refreshToken: string | null;
        needsReconsent: boolean;
        googleEmail: string;
      }>(
        'SELECT "accessToken", "refreshToken", "needsReconsent", "googleEmail" FROM "GmailGrant" WHERE "mailboxId" = $1',
        [mailboxId],
      );
      return row ?? null;
    }

    /** fetch() will not send a forged Host header, so this GET uses node:http with the client's cookies. */
    function rawGet(
      client: TestClient,
      path: string,
      headers: Record<string, string>,
    ): Promise<{ status: number; location?: string }> {
      return new Promise((resolve, reject) => {
        const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        request(new URL(path, ctx().url), { headers: { cookie, ...headers } }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, location: res.headers.location });
        })
          .on('error', reject)
          .end();
      });
    }

    test('a forged Host or X-Forwarded-Host does not change redirect_uri', async () => {
      const { client, mailbox: m } = await setup();
      const forged: Array<Record<string, string>> = [
        { host: 'evil.example' },
        { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
      ];
      for (const headers of forged) {
        const start = await rawGet(client, `/mailboxes/${m.id}/gmail/signin`, headers);
        assert.equal(start.status, 302);
        assert.equal(new URL(start.location!).searchParams.get('redirect_uri'), ctx().config.publicUrl + CALLBACK);
      }
    });

    test('a replayed callback URL is refused and changes nothing', async () => {
      const { client, mailbox: m } = await setup();
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      assert.equal((await finish(client, back)).status, 303);
      const before = await rawGrant(m.id);
      const replay = await finish(client, back);
      assert.equal(replay.status, 400);
      assert.match(replay.text, /already used/);
      assert.match(replay.headers.get('cache-control') ?? '', /no-store/);
      assert.deepEqual(await rawGrant(m.id), before);
    });

    test('state from another session, or another user, is refused; the flow still works in its own session', async () => {
      const { client, user, mailbox: m } = await setup();
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      const sameUserElsewhere = ctx().client();
      await sameUserElsewhere.login(user.email, user.password);
      const { client: admin } = await ctx().signedIn('ADMIN');
      for (const other of [sameUserElsewhere, admin]) {
        const r = await finish(other, back);
        assert.equal(r.status, 400);
        assert.match(r.text, /does not match a sign-in started in this browser session/);
      }
      assert.equal(await rawGrant(m.id), null);
      assert.equal((await finish(client, back)).status, 303);
    });

    test('missing or unknown state is refused', async () => {
      const { client, mailbox: m } = await setup();
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      const noState = new URL(back);
      noState.searchParams.delete('state');
      const r1 = await finish(client, noState);
      assert.equal(r1.status, 400);
      assert.match(r1.text, /carried no state/);
      const wrong = new URL(back);
      wrong.searchParams.set('state', 'x'.repeat(32));
      assert.equal((await finish(client, wrong)).status, 400);
      const proto = new URL(back);
      proto.searchParams.set('state', '__proto__');
      assert.equal((await finish(client, proto)).status, 400);
      assert.equal(await rawGrant(m.id), null);
    });

    test('a flow older than 15 minutes has expired', async () => {
      const { client, mailbox: m } = await setup();
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      const state = back.searchParams.get('state')!;
      const row = await ctx().db.prisma.session.findFirstOrThrow({ where: { data: { contains: state } } });
      const data = JSON.parse(row.data) as { gmailFlows: Record<string, { createdAt: number }> };
      data.gmailFlows[state].createdAt -= 16 * 60_000;
      await ctx().db.prisma.session.update({ where: { sid: row.sid }, data: { data: JSON.stringify(data) } });
      const r = await finish(client, back);
      assert.equal(r.status, 400);
      assert.match(r.text, /more than 15 minutes ago/);
      assert.equal(await rawGrant(m.id), null);
    });

    test("access_denied shows a friendly page with Google's description escaped", async () => {
      const { client, mailbox: m } = await setup();
      google.nextAuthorization({ deny: true, error_description: '<script>alert("x")</script> user said no' });
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      assert.equal(back.searchParams.get('error'), 'access_denied');
      const r = await finish(client, back);
      assert.equal(r.status, 400);
      assert.match(r.text, /access was not granted/);
      assert.match(r.text, /&lt;script&gt;alert\(&#34;x&#34;\)&lt;\/script&gt; user said no/);
      assert.doesNotMatch(r.text, /<script>alert/);
      assert.match(r.headers.get('cache-control') ?? '', /no-store/);
      assert.equal(await rawGrant(m.id), null);
      // The next step is to start again: the page offers it.
      assert.match(
        r.text,
        new RegExp(`<a class="button primary" href="/mailboxes/${m.id}/gmail/signin">Sign in to Gmail again</a>`),
      );
      assert.equal((await finish(client, back)).status, 400, 'the flow is used up');
    });

    test('a temporary Google failure at the code exchange is titled as temporary and offers Sign in to Gmail again', async () => {
      const { client, mailbox: m } = await setup();
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      google.failTokenEndpoint(1, 503);
      const r = await finish(client, back);
      assert.equal(r.status, 502);
      assert.match(r.text, /<h1>Google had a temporary problem<\/h1>/);
      assert.doesNotMatch(r.text, /did not accept/);
      assert.match(r.text, /Try Sign in to Gmail again in a minute/);
      assert.match(r.text, new RegExp(`href="/mailboxes/${m.id}/gmail/signin">Sign in to Gmail again</a>`));
      assert.equal(await rawGrant(m.id), null);
    });

    test('the wrong Google account: nothing stored, the new token revoked', async () => {
      const { client, mailbox: m } = await setup();
      const other = `other-${rand()}@gmail.test`;
      google.addAccount({ email: other });
      google.nextAuthorization({ accountEmail: other.toUpperCase() });
      const revocations = google.stats().revocations;
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      const r = await finish(client, back);
      assert.equal(r.status, 400);
      assert.match(
        r.text,
        new RegExp(
          `signed in to Google as ${other.replace('.', '\\.')}, but this mailbox is ${m.emailAddress.replace('.', '\\.')}`,
        ),
      );
      assert.equal(await rawGrant(m.id), null);
      assert.equal(google.stats().revocations, revocations + 1);
      assert.match(r.text, new RegExp(`href="/mailboxes/${m.id}/gmail/signin">Sign in to Gmail again</a>`));
      const ev = await ctx().db.prisma.auditEvent.findFirstOrThrow({
        where: { action: 'gmail.connect', targetId: m.id, result: 'FAILURE' },
      });
      assert.deepEqual(
        [(ev.details as { reason: string }).reason, (ev.details as { revoked: string }).revoked],
        ['wrong-account', 'revoked'],
      );
    });

    test('an unverified Google address is refused', async () => {
      const { client, user, profile: p } = await setup();
      const email = `unverified-${rand()}@gmail.test`;
      const m = await mailbox(user.id, p.id, email);
      google.addAccount({ email, emailVerified: false });
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      const r = await finish(client, back);
      assert.equal(r.status, 400);
      assert.match(r.text, /did not confirm a verified email address/);
      assert.equal(await rawGrant(m.id), null);
    });

    test('the Gmail scope left unticked: nothing stored, the new token revoked', async () => {
      const { client, mailbox: m } = await setup();
      google.nextAuthorization({ grantScopes: ['openid', 'email'] });
      const revocations = google.stats().revocations;
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      const r = await finish(client, back);
      assert.equal(r.status, 400);
      assert.match(r.text, /did not grant access to Gmail \(https:\/\/mail\.google\.com\/\)/);
      assert.equal(await rawGrant(m.id), null);
      assert.equal(google.stats().revocations, revocations + 1);
    });

    test('no refresh token: a re-consent keeps the old one; with none stored, needsReconsent and "sign in again with consent"', async () => {
      const { client, mailbox: m } = await setup();
      assert.equal(
        (await finish(client, (await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`)).back)).status,
        303,
      );
      const first = (await rawGrant(m.id))!;
      proxyCtl.stripRefresh = true;
      try {
        assert.equal(
          (await finish(client, (await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`)).back)).status,
          303,
        );
        const second = (await rawGrant(m.id))!;
        assert.equal(second.refreshToken, first.refreshToken);
        assert.notEqual(second.accessToken, first.accessToken);
        assert.equal(second.needsReconsent, false);

        const { client: c2, mailbox: fresh } = await setup();
        const r = await finish(c2, (await toGoogle(c2, `/mailboxes/${fresh.id}/gmail/signin`)).back);
        assert.equal(r.status, 303);
        const g = (await rawGrant(fresh.id))!;
        assert.equal(g.refreshToken, null);
        assert.equal(g.needsReconsent, true);
        assert.match((await c2.get(`/mailboxes/${fresh.id}`)).text, /Sign in again with consent/);
      } finally {
        proxyCtl.stripRefresh = false;
      }
    });

    test('two flows at once (two mailboxes, two tabs) both finish, in reverse order', async () => {
      const { client, user, profile: p, mailbox: a } = await setup();
      const b = await mailbox(user.id, p.id);
      const flowA = await toGoogle(client, `/mailboxes/${a.id}/gmail/signin`);
      const flowB = await toGoogle(client, `/mailboxes/${b.id}/gmail/signin`);
      const rb = await finish(client, flowB.back);
      const ra = await finish(client, flowA.back);
      assert.equal(rb.location, `/mailboxes/${b.id}`);
      assert.equal(ra.location, `/mailboxes/${a.id}`);
      assert.equal((await rawGrant(a.id))!.googleEmail, a.emailAddress);
      assert.equal((await rawGrant(b.id))!.googleEmail, b.emailAddress);
    });

    test("Sign in to Gmail refuses to start without a usable Gmail OAuth profile, or on another user's mailbox", async () => {
      const { client, user } = await ctx().signedIn('USER');
      const creds = await profile({
        authenticateUsing: 'CREDENTIALS_PER_MAILBOX',
        oauthClientId: null,
        oauthClientSecret: null,
      });
      const noSecret = await profile({ oauthClientSecret: null });
      const cases: Array<[string | null, RegExp]> = [
        [creds.id, /user name and password per mailbox/],
        [noSecret.id, /no OAuth client ID or client secret/],
        [null, /no email server profile/],
      ];
      const authorizations = google.stats().authorizations;
      for (const [profileId, message] of cases) {
        const m = await mailbox(user.id, profileId);
        const r = await client.get(`/mailboxes/${m.id}/gmail/signin`);
        assert.equal(r.status, 409);
        assert.match(r.text, message);
      }
      const { mailbox: theirs } = await setup();
      assert.equal((await client.get(`/mailboxes/${theirs.id}/gmail/signin`)).status, 404);
      assert.equal(google.stats().authorizations, authorizations);
    });

    test('the callback without a Mailroom session is refused', async () => {
      const { client, mailbox: m } = await setup();
      const { back } = await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`);
      const r = await finish(ctx().client(), back);
      assert.equal(r.status, 400);
      assert.match(r.text, /session has ended/);
      assert.equal(r.location, null);
    });

    test('Disconnect revokes at Google and deletes the grant; when Google fails it still deletes, and says so', async () => {
      const { client, mailbox: m } = await setup();
      await finish(client, (await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`)).back);
      const access = ctx().sealer.open((await rawGrant(m.id))!.accessToken, 'grant.accessToken');
      await client.get(`/mailboxes/${m.id}`);
      const r = await client.post(`/mailboxes/${m.id}/gmail/disconnect`);
      assert.equal(r.status, 303);
      assert.equal(await rawGrant(m.id), null);
      assert.deepEqual(google.verifyAccessToken(access), { ok: false, reason: 'revoked' });
      assert.match(
        (await client.get(`/mailboxes/${m.id}`)).text,
        /Disconnected from Gmail .*Google access was revoked/,
      );

      await finish(client, (await toGoogle(client, `/mailboxes/${m.id}/gmail/signin`)).back);
      const access2 = ctx().sealer.open((await rawGrant(m.id))!.accessToken, 'grant.accessToken');
      proxyCtl.failRevoke = true;
      try {
        await client.get(`/mailboxes/${m.id}`);
        assert.equal((await client.post(`/mailboxes/${m.id}/gmail/disconnect`)).status, 303);
      } finally {
        proxyCtl.failRevoke = false;
      }
      assert.equal(await rawGrant(m.id), null);
      assert.ok(google.verifyAccessToken(access2).ok, 'Google still has it');
      assert.match((await client.get(`/mailboxes/${m.id}`)).text, /could not be reached to revoke access/);
      const ev = await ctx().db.prisma.auditEvent.findMany({
        where: { action: 'gmail.disconnect', targetId: m.id },
        orderBy: { at: 'asc' },
      });
      assert.deepEqual(
        ev.map((e) => (e.details as { revoked: string }).revoked),
        ['revoked', 'failed'],
      );
    });

    test('no code, token or client secret in any callback page, redirect or log line of this suite', () => {
      const logs = ctx().logs.join('\n');
      const outputs = pages.join('\n');
      for (const v of [...seen].filter((x) => x.startsWith('4/')))
        assert.ok(!logs.includes(v) && !outputs.includes(v), 'an authorization code leaked');
      for (const text of [logs, outputs]) {
        assert.doesNotMatch(text, /ya29\.|1\/\/0g|GOCSPX-/, 'a token or client secret leaked');
      }
      assert.ok(seen.size > 10);
    });
  },
  { env },
);
