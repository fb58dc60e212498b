// The Authorized redirect URI / JavaScript origin and the panel's warnings (pure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gmailRedirectUri, javascriptOrigin, redirectWarnings } from '../../src/profiles/redirect-uri.ts';

const codes = (...a: Parameters<typeof redirectWarnings>) => redirectWarnings(...a).map((w) => w.code);

test('the redirect URI is PUBLIC_URL + /_grid/cmds/dlg_gmailoauth.aspx; the origin is its scheme, host and port', () => {
  assert.equal(gmailRedirectUri('https://crm.example.com'), 'https://crm.example.com/_grid/cmds/dlg_gmailoauth.aspx');
  assert.equal(gmailRedirectUri('https://crm.example.com/'), 'https://crm.example.com/_grid/cmds/dlg_gmailoauth.aspx');
  assert.equal(
    gmailRedirectUri('https://example.com/mailroom'),
    'https://example.com/mailroom/_grid/cmds/dlg_gmailoauth.aspx',
  );
  assert.equal(gmailRedirectUri('http://localhost:3000'), 'http://localhost:3000/_grid/cmds/dlg_gmailoauth.aspx');
  assert.equal(javascriptOrigin('https://example.com/mailroom'), 'https://example.com');
  assert.equal(javascriptOrigin('http://localhost:3000'), 'http://localhost:3000');
  assert.equal(javascriptOrigin('https://crm.example.com:443'), 'https://crm.example.com');
});

test('http PUBLIC_URL warns unless the host is local', () => {
  assert.deepEqual(codes('http://crm.example.com'), ['http-public-url']);
  assert.deepEqual(codes('http://10.0.0.5:3000'), ['http-public-url']);
  for (const local of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'http://LOCALHOST'])
    assert.deepEqual(codes(local), [], local);
  assert.deepEqual(codes('https://crm.example.com'), []);
});

test("a request host other than PUBLIC_URL's warns; X-Forwarded-Host, when sent, is the host the browser used", () => {
  assert.deepEqual(codes('https://crm.example.com', 'crm.example.com'), []);
  assert.deepEqual(codes('https://crm.example.com', 'CRM.example.com:443'), [], 'default port and case do not matter');
  assert.deepEqual(codes('https://crm.example.com', '127.0.0.1:3000'), ['host-mismatch']);
  assert.deepEqual(codes('https://crm.example.com', '127.0.0.1:3000', 'crm.example.com'), []);
  assert.deepEqual(codes('https://crm.example.com', 'crm.example.com', 'other.example.com, crm.example.com'), [
    'host-mismatch',
  ]);
  assert.deepEqual(codes('http://localhost:3000', 'localhost:3001'), ['host-mismatch']);
  assert.deepEqual(codes('http://crm.example.com', '127.0.0.1'), ['http-public-url', 'host-mismatch']);
  assert.deepEqual(codes('https://crm.example.com', 'bad host'), ['host-mismatch']);
});
