// The Google client's HTTP (decision 044: node:http(s) with keep-alive agents instead of fetch): what fetch did is
// kept — connections reused between requests, secrets only in the body, a redirect never followed, a slow or cut
// answer a transient network error. Against a plain HTTP server on loopback that records what reaches it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createGoogleClient, GoogleOAuthError } from '../../src/gmail/google-client.ts';

const seen: Array<{ url: string; body: string; socket: Socket }> = [];
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ access_token: 'ya29.new', expires_in: 3599, scope: 'https://mail.google.com/' }));
};
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    seen.push({ url: req.url ?? '', body, socket: req.socket });
    answer(req, res);
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
after(() => {
  server.closeAllConnections();
  server.close();
});
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const endpoints = {
  authorizationUrl: `${base}/auth`,
  tokenUrl: `${base}/token`,
  userinfoUrl: `${base}/userinfo`,
  revokeUrl: `${base}/revoke`,
};
const creds = { clientId: 'c.apps.googleusercontent.com', clientSecret: 'GOCSPX-secret' };

test('token refreshes reuse one connection, and the secrets travel only in the POST body', async () => {
  seen.length = 0;
  const client = createGoogleClient(endpoints);
  for (let i = 0; i < 3; i++) {
    const t = await client.refreshAccessToken(creds, '1//refresh-secret');
    assert.equal(t.access_token, 'ya29.new');
    assert.equal(t.expires_in, 3599);
  }
  assert.equal(seen.length, 3);
  assert.equal(new Set(seen.map((s) => s.socket)).size, 1, 'one kept-alive connection');
  for (const s of seen) {
    assert.equal(s.url, '/token', 'nothing in the URL');
    const form = new URLSearchParams(s.body);
    assert.equal(form.get('refresh_token'), '1//refresh-secret');
    assert.equal(form.get('client_secret'), 'GOCSPX-secret');
    assert.equal(form.get('grant_type'), 'refresh_token');
  }
});

test('Google’s error answer is read as before; a redirect is not followed; slow or cut answers are transient', async () => {
  const client = createGoogleClient(endpoints, { timeoutMs: 300 });
  answer = (_req, res) => {
    res.statusCode = 400;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }));
  };
  const refused = await client.refreshAccessToken(creds, 'r').catch((e) => e);
  assert.ok(refused instanceof GoogleOAuthError);
  assert.deepEqual([refused.error, refused.status, refused.transient], ['invalid_grant', 400, false]);

  seen.length = 0;
  answer = (_req, res) => {
    res.statusCode = 302;
    res.setHeader('location', `${base}/elsewhere`);
    res.end();
  };
  const redirected = await client.refreshAccessToken(creds, 'r').catch((e) => e);
  assert.ok(redirected instanceof GoogleOAuthError);
  assert.deepEqual([redirected.error, redirected.transient], ['network_error', true]);
  assert.deepEqual(
    seen.map((s) => s.url),
    ['/token'],
    'the redirect was not followed',
  );

  answer = () => undefined; // never answers
  const slow = await client.refreshAccessToken(creds, 'r').catch((e) => e);
  assert.ok(slow instanceof GoogleOAuthError);
  assert.equal(slow.error, 'network_error');
  assert.match(slow.message, /did not answer in time/);

  answer = (_req, res) => {
    res.setHeader('content-length', '100');
    res.write('{"access_token":');
    setTimeout(() => res.socket?.destroy(), 20);
  };
  const cut = await client.refreshAccessToken(creds, 'r').catch((e) => e);
  assert.ok(cut instanceof GoogleOAuthError);
  assert.deepEqual([cut.error, cut.transient], ['network_error', true]);
  assert.match(cut.message, /could not be reached/);
});
