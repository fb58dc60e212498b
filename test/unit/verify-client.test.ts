// Verify client against the Google fake over HTTP (it answers as Google does: client first, then the code), and the
// verdict rules for answers the fake never gives.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { clientVerdict, createGoogleClient, GoogleOAuthError } from '../../src/gmail/google-client.ts';
import { startFakeGoogle } from '../fakes/google.ts';

const google = await startFakeGoogle();
after(() => google.close());
const clientId = 'verify-1.apps.googleusercontent.com';
const clientSecret = 'GOCSPX-right';
google.addClient({ clientId, clientSecret, redirectUris: ['http://127.0.0.1:1/_grid/cmds/dlg_gmailoauth.aspx'] });
const endpoints = {
  authorizationUrl: google.endpoints.authorization,
  tokenUrl: google.endpoints.token,
  userinfoUrl: google.endpoints.userinfo,
  revokeUrl: google.endpoints.revoke,
};
const client = createGoogleClient(endpoints);
const REDIRECT = 'http://127.0.0.1:1/_grid/cmds/dlg_gmailoauth.aspx';

test('the fake answers a made-up code as Google does: invalid_client for a wrong client, else invalid_grant', async () => {
  const post = (fields: Record<string, string>) =>
    fetch(google.endpoints.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'made-up',
        redirect_uri: REDIRECT,
        ...fields,
      }),
    }).then(async (r) => [r.status, await r.json()]);
  assert.deepEqual(await post({ client_id: clientId, client_secret: clientSecret }), [
    400,
    { error: 'invalid_grant', error_description: 'Malformed auth code.' },
  ]);
  assert.deepEqual(await post({ client_id: clientId, client_secret: 'wrong' }), [
    401,
    { error: 'invalid_client', error_description: 'Unauthorized' },
  ]);
  assert.deepEqual(await post({ client_id: 'nobody.apps.googleusercontent.com', client_secret: 'x' }), [
    401,
    { error: 'invalid_client', error_description: 'The OAuth client was not found.' },
  ]);
});

test('right client → VALID; wrong secret or unknown id → INVALID, each saying which', async () => {
  const ok = await client.verifyClient({ clientId, clientSecret }, REDIRECT);
  assert.equal(ok.result, 'VALID');
  assert.equal(ok.googleError, 'invalid_grant');
  const secret = await client.verifyClient({ clientId, clientSecret: 'GOCSPX-wrong' }, REDIRECT);
  assert.equal(secret.result, 'INVALID');
  assert.match(secret.message, /refused the Client Secret for this Client Id \(invalid_client: Unauthorized\)/);
  const id = await client.verifyClient({ clientId: 'nobody.apps.googleusercontent.com', clientSecret }, REDIRECT);
  assert.equal(id.result, 'INVALID');
  assert.match(id.message, /does not know this Client Id/);
});

test('a temporary failure and an unreachable Google are told apart, and neither is a verdict on the client', async () => {
  google.failTokenEndpoint(1, 503);
  const temporary = await client.verifyClient({ clientId, clientSecret }, REDIRECT);
  assert.equal(temporary.result, 'TEMPORARY');
  assert.match(temporary.message, /temporary problem \(temporarily_unavailable/);
  // A port nothing listens on: taken, then closed.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  const closed = createGoogleClient({ ...endpoints, tokenUrl: `http://127.0.0.1:${port}/token` });
  const unreachable = await closed.verifyClient({ clientId, clientSecret }, REDIRECT);
  assert.equal(unreachable.result, 'UNREACHABLE');
  assert.match(unreachable.message, /could not be reached/);
});

test('any other answer says so', () => {
  const v = clientVerdict(new GoogleOAuthError('deleted_client', 'The OAuth client was deleted.', 401, false));
  assert.equal(v.result, 'UNEXPECTED');
  assert.match(v.message, /Google answered “deleted_client: The OAuth client was deleted\.”/);
  assert.equal(
    clientVerdict(new GoogleOAuthError('unauthorized_client', 'Unauthorized', 401, false)).result,
    'INVALID',
  );
});
