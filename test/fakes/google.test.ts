// Tests of the fake Google OAuth 2.0 server, over real HTTP with fetch.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeGoogle, type FakeGoogle } from './google.ts';

const CLIENT = {
  clientId: 'client-1.apps.googleusercontent.com',
  clientSecret: 'secret-1',
  redirectUris: ['http://127.0.0.1:3000/_grid/cmds/dlg_gmailoauth.aspx'],
};
const REDIRECT = CLIENT.redirectUris[0] as string;
const SCOPE = 'https://mail.google.com/ openid email';
const GRANTED = 'email https://mail.google.com/ openid https://www.googleapis.com/auth/userinfo.email';

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

type Flow = { verifier: string; state: string; location: URL; raw: string };

/** Starts an authorization like the app does; returns the redirect Google answered with. */
async function authorize(g: FakeGoogle, extra: Record<string, string> = {}): Promise<Flow> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const q = new URLSearchParams({
    client_id: CLIENT.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: SCOPE,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    access_type: 'offline',
    prompt: 'consent',
    login_hint: 'ada@example.com',
    ...extra,
  });
  const res = await fetch(`${g.endpoints.authorization}?${q}`, { redirect: 'manual' });
  assert.equal(res.status, 302, await res.clone().text());
  const raw = res.headers.get('location') ?? '';
  return { verifier, state, location: new URL(raw), raw };
}

async function token(
  g: FakeGoogle,
  body: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(g.endpoints.token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function exchange(g: FakeGoogle, flow: Flow, over: Record<string, string> = {}): ReturnType<typeof token> {
  return token(g, {
    grant_type: 'authorization_code',
    code: flow.location.searchParams.get('code') ?? '',
    redirect_uri: REDIRECT,
    code_verifier: flow.verifier,
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
    ...over,
  });
}

function refresh(g: FakeGoogle, refreshToken: string): ReturnType<typeof token> {
  return token(g, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
  });
}

/** What a browser would submit: hidden fields, checked radios/checkboxes, and the clicked button. */
function formFields(html: string, button: string, change: (f: URLSearchParams) => void = () => {}): URLSearchParams {
  const f = new URLSearchParams();
  for (const tag of html.match(/<input\b[^>]*>/g) ?? []) {
    const attr = (n: string): string | undefined => new RegExp(`\\b${n}="([^"]*)"`).exec(tag)?.[1];
    const type = attr('type');
    if (type === 'hidden' || ((type === 'radio' || type === 'checkbox') && /\bchecked\b/.test(tag)))
      f.append(attr('name') ?? '', decode(attr('value') ?? ''));
  }
  change(f);
  const b = new RegExp(`<button[^>]*name="([^"]+)" value="([^"]+)"[^>]*>${button}</button>`).exec(html);
  assert.ok(b?.[1] && b[2], `button ${button}`);
  f.append(b[1], b[2]);
  return f;
}
const decode = (s: string): string => s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));

let g: FakeGoogle;
beforeEach(async () => {
  await g?.close();
  g = await startFakeGoogle();
  g.addClient(CLIENT);
  g.addAccount({ email: 'ada@example.com', name: 'Ada Lovelace' });
  g.addAccount({ email: 'bob@example.com', emailVerified: false });
});
after(() => g?.close());

describe('authorization endpoint', () => {
  test('unknown client: Google error page, no redirect', async () => {
    const res = await fetch(
      `${g.endpoints.authorization}?client_id=nope&redirect_uri=${encodeURIComponent(REDIRECT)}`,
      { redirect: 'manual' },
    );
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /Error 401: invalid_client/);
  });

  test('redirect_uri must match byte for byte', async () => {
    for (const uri of [`${REDIRECT}/`, REDIRECT.replace('127.0.0.1', 'localhost'), REDIRECT.toUpperCase()]) {
      const q = new URLSearchParams({
        client_id: CLIENT.clientId,
        redirect_uri: uri,
        response_type: 'code',
        scope: SCOPE,
        state: 's',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      });
      const res = await fetch(`${g.endpoints.authorization}?${q}`, { redirect: 'manual' });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /Error 400: redirect_uri_mismatch/);
    }
  });

  test('PKCE must be S256; scopes must exist', async () => {
    for (const [extra, re] of [
      [{ code_challenge_method: 'plain' }, /invalid_request/],
      [{ scope: 'https://mail.google.com/,openid' }, /invalid_scope/],
    ] as const) {
      const { challenge } = pkce();
      const q = new URLSearchParams({
        client_id: CLIENT.clientId,
        redirect_uri: REDIRECT,
        response_type: 'code',
        scope: SCOPE,
        state: 's',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...extra,
      });
      const res = await fetch(`${g.endpoints.authorization}?${q}`, { redirect: 'manual' });
      assert.equal(res.status, 400);
      assert.match(await res.text(), re);
    }
  });

  test('redirects Google-style and records the request', async () => {
    const flow = await authorize(g);
    const p = flow.location.searchParams;
    assert.equal(flow.location.origin + flow.location.pathname, REDIRECT);
    assert.equal(p.get('state'), flow.state);
    assert.match(p.get('code') ?? '', /^4\/0A[\w-]+$/);
    assert.equal(p.get('scope'), GRANTED);
    assert.equal(p.get('authuser'), '0');
    assert.equal(p.get('prompt'), 'consent');
    assert.ok(flow.raw.includes('code=4%2F0A'), 'code slash encoded like Google');
    assert.ok(flow.raw.includes('scope=email+https://mail.google.com/+openid+'), 'scope spelled like Google');
    const last = g.lastAuthorizationRequest();
    assert.equal(last?.access_type, 'offline');
    assert.equal(last?.prompt, 'consent');
    assert.equal(last?.login_hint, 'ada@example.com');
    assert.equal(last?.code_challenge_method, 'S256');
    assert.equal(g.stats().authorizations, 1);
  });

  test('nextAuthorization: deny, other account, unticked scope (each used once)', async () => {
    g.nextAuthorization({ deny: true });
    g.nextAuthorization({ accountEmail: 'bob@example.com', grantScopes: ['openid', 'email'] });
    const denied = await authorize(g);
    assert.equal(denied.location.searchParams.get('error'), 'access_denied');
    assert.equal(denied.location.searchParams.get('state'), denied.state);
    assert.equal(denied.location.searchParams.get('code'), null);
    const partial = await authorize(g);
    assert.equal(
      partial.location.searchParams.get('scope'),
      'email openid https://www.googleapis.com/auth/userinfo.email',
    );
    const { json } = await exchange(g, partial);
    const check = g.verifyAccessToken(String(json.access_token));
    assert.ok(check.ok);
    assert.equal(check.email, 'bob@example.com');
    assert.ok(!check.scopes.includes('https://mail.google.com/'));
    const normal = await authorize(g);
    assert.equal(normal.location.searchParams.get('scope'), GRANTED);
  });
});

describe('token endpoint', () => {
  test('PKCE code flow, id_token and userinfo', async () => {
    const flow = await authorize(g);
    assert.deepEqual((await exchange(g, flow, { code_verifier: pkce().verifier })).json, {
      error: 'invalid_grant',
      error_description: 'Invalid code verifier.',
    });
    assert.equal((await exchange(g, flow, { code_verifier: '' })).json.error_description, 'Missing code verifier.');
    assert.equal((await exchange(g, flow, { redirect_uri: `${REDIRECT}/` })).json.error, 'redirect_uri_mismatch');
    const { status, json } = await exchange(g, flow);
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json), [
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
      'id_token',
    ]);
    assert.match(String(json.access_token), /^ya29\.[\w-]+$/);
    assert.match(String(json.refresh_token), /^1\/\/0[\w-]+$/);
    assert.equal(json.expires_in, 3599);
    assert.equal(json.token_type, 'Bearer');
    assert.equal(json.scope, GRANTED);
    const claims = JSON.parse(Buffer.from(String(json.id_token).split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims.iss, 'https://accounts.google.com');
    assert.equal(claims.aud, CLIENT.clientId);
    assert.equal(claims.email, 'ada@example.com');
    assert.equal(claims.email_verified, true);
    assert.match(String(claims.sub), /^1\d{20}$/);
    assert.equal(Number(claims.exp) - Number(claims.iat), 3600);

    for (const url of [g.endpoints.userinfo, `${g.url}/oauth2/v3/userinfo`]) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${String(json.access_token)}` } });
      assert.deepEqual(await res.json(), { sub: claims.sub, email: 'ada@example.com', email_verified: true });
    }
    const viaQuery = await fetch(
      `${g.url}/oauth2/v3/userinfo?access_token=${encodeURIComponent(String(json.access_token))}`,
    );
    assert.equal(viaQuery.status, 200);
    const bad = await fetch(g.endpoints.userinfo, { headers: { authorization: 'Bearer ya29.nope' } });
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_request');
  });

  test('a code works once and for 10 minutes', async () => {
    const flow = await authorize(g);
    assert.equal((await exchange(g, flow)).status, 200);
    assert.deepEqual(await exchange(g, flow), {
      status: 400,
      json: { error: 'invalid_grant', error_description: 'Bad Request' },
    });
    const late = await authorize(g);
    g.advanceTime(10 * 60_000 + 1);
    assert.equal((await exchange(g, late)).json.error, 'invalid_grant');
  });

  test('client authentication: body or Basic; wrong secret is invalid_client', async () => {
    const flow = await authorize(g);
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT.clientId)}:${CLIENT.clientSecret}`).toString('base64')}`;
    assert.deepEqual(await exchange(g, flow, { client_secret: 'wrong' }), {
      status: 401,
      json: { error: 'invalid_client', error_description: 'Unauthorized' },
    });
    const code = flow.location.searchParams.get('code') ?? '';
    const ok = await token(
      g,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: flow.verifier },
      { authorization: basic },
    );
    assert.equal(ok.status, 200);
  });

  test('refresh; rotation; revoke then refresh is invalid_grant', async () => {
    const { json } = await exchange(g, await authorize(g));
    const refreshed = await refresh(g, String(json.refresh_token));
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.json.refresh_token, undefined);
    assert.equal(refreshed.json.expires_in, 3599);
    assert.equal(refreshed.json.scope, GRANTED);
    assert.notEqual(refreshed.json.access_token, json.access_token);
    assert.equal(g.stats().refreshes, 1);

    g.rotateRefreshTokens(true);
    const rotated = await refresh(g, String(json.refresh_token));
    assert.match(String(rotated.json.refresh_token), /^1\/\/0/);
    assert.equal((await refresh(g, String(json.refresh_token))).json.error, 'invalid_grant');
    g.rotateRefreshTokens(false);

    const current = String(rotated.json.refresh_token);
    const rev = await fetch(g.endpoints.revoke, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: current }),
    });
    assert.equal(rev.status, 200);
    assert.deepEqual(await rev.json(), {});
    assert.deepEqual(await refresh(g, current), {
      status: 400,
      json: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
    });
    assert.deepEqual(g.verifyAccessToken(String(rotated.json.access_token)), { ok: false, reason: 'revoked' });
    const again = await fetch(`${g.endpoints.revoke}?token=${encodeURIComponent(current)}`, { method: 'POST' });
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), { error: 'invalid_token', error_description: 'Token expired or revoked' });
    assert.equal(g.stats().revocations, 1);
  });

  test('refresh_token only on first consent or prompt=consent', async () => {
    const first = await authorize(g, { prompt: '' });
    assert.ok((await exchange(g, first)).json.refresh_token);
    const second = await authorize(g, { prompt: '' });
    assert.equal(second.location.searchParams.get('prompt'), 'none');
    assert.equal((await exchange(g, second)).json.refresh_token, undefined);
    assert.ok((await exchange(g, await authorize(g, { prompt: 'consent' }))).json.refresh_token);
    assert.equal(
      (await exchange(g, await authorize(g, { prompt: 'consent', access_type: 'online' }))).json.refresh_token,
      undefined,
    );
    g.revokeAllFor('ada@example.com');
    assert.ok((await exchange(g, await authorize(g, { prompt: '' }))).json.refresh_token);
  });

  test('failure injection and delay', async () => {
    const seeded = g.issueTokensFor('ada@example.com', CLIENT.clientId);
    g.failTokenEndpoint(2);
    assert.equal((await refresh(g, seeded.refresh_token)).status, 500);
    assert.equal((await refresh(g, seeded.refresh_token)).status, 500);
    assert.equal((await refresh(g, seeded.refresh_token)).status, 200);
    g.failTokenEndpoint(1, 503);
    assert.deepEqual((await refresh(g, seeded.refresh_token)).json.error, 'temporarily_unavailable');
    assert.equal(g.stats().tokenRequests, 4);
    g.setTokenDelayMs(150);
    const t0 = performance.now();
    assert.equal((await refresh(g, seeded.refresh_token)).status, 200);
    assert.ok(performance.now() - t0 >= 140);
  });

  test('expired and revoked access tokens', async () => {
    const seeded = g.issueTokensFor('bob@example.com', CLIENT.clientId);
    assert.deepEqual(g.verifyAccessToken(seeded.access_token), {
      ok: true,
      email: 'bob@example.com',
      scopes: GRANTED.split(' '),
    });
    assert.equal(g.expireAccessToken(seeded.access_token), true);
    assert.deepEqual(g.verifyAccessToken(seeded.access_token), { ok: false, reason: 'expired' });
    assert.deepEqual(g.verifyAccessToken('ya29.unknown'), { ok: false, reason: 'invalid' });
    g.revokeAllFor('bob@example.com');
    assert.deepEqual(g.verifyAccessToken(seeded.access_token), { ok: false, reason: 'revoked' });
    assert.equal((await refresh(g, seeded.refresh_token)).json.error, 'invalid_grant');
  });
});

describe('tokeninfo endpoint', () => {
  const tokeninfo = async (
    token: string,
    method: 'GET' | 'POST' = 'GET',
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res =
      method === 'GET'
        ? await fetch(`${g.endpoints.tokeninfo}?access_token=${encodeURIComponent(token)}`)
        : await fetch(g.endpoints.tokeninfo, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ access_token: token }),
          });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  test("a live token: Google's claims as strings, by GET or POST", async () => {
    const seeded = g.issueTokensFor('ada@example.com', CLIENT.clientId);
    for (const method of ['GET', 'POST'] as const) {
      const { status, json } = await tokeninfo(seeded.access_token, method);
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(json), [
        'azp',
        'aud',
        'sub',
        'scope',
        'exp',
        'expires_in',
        'email',
        'email_verified',
        'access_type',
      ]);
      assert.equal(json.aud, CLIENT.clientId);
      assert.equal(json.email, 'ada@example.com');
      assert.equal(json.email_verified, 'true');
      assert.equal(json.scope, GRANTED);
      assert.ok(Number(json.expires_in) > 3500 && Number(json.expires_in) <= 3599);
      assert.ok(Math.abs(Number(json.exp) - (Date.now() / 1000 + Number(json.expires_in))) <= 2);
    }
    assert.equal(g.stats().tokeninfoRequests, 2);
  });

  test('no email claim without an email scope', async () => {
    const seeded = g.issueTokensFor('ada@example.com', CLIENT.clientId, { scopes: ['https://mail.google.com/'] });
    const { status, json } = await tokeninfo(seeded.access_token);
    assert.equal(status, 200);
    assert.equal(json.email, undefined);
    assert.equal(json.scope, 'https://mail.google.com/');
  });

  test('unknown, expired and revoked tokens: 400 invalid_token "Invalid Value"', async () => {
    const expired = g.issueTokensFor('ada@example.com', CLIENT.clientId).access_token;
    const revoked = g.issueTokensFor('bob@example.com', CLIENT.clientId).access_token;
    g.expireAccessToken(expired);
    g.revokeAllFor('bob@example.com');
    for (const token of ['ya29.unknown', expired, revoked, '']) {
      assert.deepEqual(await tokeninfo(token), {
        status: 400,
        json: { error: 'invalid_token', error_description: 'Invalid Value' },
      });
    }
  });
});

describe('consent page mode', () => {
  let app: Server;
  let calls: URL[] = [];
  let appUrl = '';
  before(async () => {
    app = createServer((req, res) => {
      calls.push(new URL(req.url ?? '/', appUrl));
      res.end('ok');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => app.close(() => resolve())));

  async function openPage(): Promise<{ html: string; state: string; verifier: string; redirectUri: string }> {
    calls = [];
    const redirectUri = `${appUrl}/_grid/cmds/dlg_gmailoauth.aspx`;
    g.addClient({ ...CLIENT, redirectUris: [redirectUri] });
    g.setConsentMode('page');
    const { verifier, challenge } = pkce();
    const q = new URLSearchParams({
      client_id: CLIENT.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: SCOPE,
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      access_type: 'offline',
      prompt: 'consent',
    });
    const res = await fetch(`${g.endpoints.authorization}?${q}`, { redirect: 'manual' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script/i);
    assert.match(html, /<form method="post"/);
    assert.match(html, /<label for="account-0">Ada Lovelace &lt;ada@example.com&gt;<\/label>/);
    return { html, state: 'st', verifier, redirectUri };
  }

  const post = (body: URLSearchParams): Promise<Response> =>
    fetch(`${g.url}/signin/oauth/consent`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });

  test('Allow as another account with the Gmail scope unticked; then follows the redirect', async () => {
    const page = await openPage();
    const body = formFields(page.html, 'Allow', (f) => {
      f.set('account', 'bob@example.com');
      f.delete('scope');
    });
    const res = await post(body);
    assert.equal(res.status, 200);
    assert.equal(calls.length, 1);
    const cb = calls[0] as URL;
    assert.equal(cb.searchParams.get('state'), 'st');
    assert.equal(cb.searchParams.get('scope'), 'email openid https://www.googleapis.com/auth/userinfo.email');
    const { json } = await token(g, {
      grant_type: 'authorization_code',
      code: cb.searchParams.get('code') ?? '',
      redirect_uri: page.redirectUri,
      code_verifier: page.verifier,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
    const info = await (
      await fetch(g.endpoints.userinfo, { headers: { authorization: `Bearer ${String(json.access_token)}` } })
    ).json();
    assert.deepEqual(info, { sub: (info as { sub: string }).sub, email: 'bob@example.com', email_verified: false });
    assert.equal((await post(body)).status, 400, 'a consent request answers once');
  });

  test('Allow with defaults grants everything; Cancel is access_denied', async () => {
    const page = await openPage();
    assert.equal((await post(formFields(page.html, 'Allow'))).status, 200);
    assert.equal(calls[0]?.searchParams.get('scope'), GRANTED);
    const again = await openPage();
    assert.equal((await post(formFields(again.html, 'Cancel'))).status, 200);
    assert.equal(calls[0]?.searchParams.get('error'), 'access_denied');
    assert.equal(calls[0]?.searchParams.get('state'), 'st');
  });
});
