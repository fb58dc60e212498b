// loginWithTokenRetry, the rule Test & Enable and synchronization share (issue 13 item 1): a refused cached OAuth
// token is refreshed once and the login tried again; passwords and tokens refreshed just now are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginWithTokenRetry } from '../../src/mail/token-retry.ts';
import type { CredentialOptions, CredentialResult } from '../../src/mail/credentials.ts';
import type { MailAuth } from '../../src/mail/types.ts';

const oauth = (accessToken: string, cached: boolean): CredentialResult => ({
  ok: true,
  cached,
  passed: [],
  auth: { kind: 'xoauth2', user: 'ada@gmail.test', accessToken },
});
const revoked: CredentialResult = {
  ok: false,
  passed: [],
  failure: {
    check: 'token',
    code: 'TOKEN_REVOKED',
    message: 'invalid_grant',
    hint: 'Sign in again.',
    transient: false,
  },
};

/** A provider whose answers are scripted, recording what it was asked. */
function provider(answers: CredentialResult[]) {
  const asked: Array<CredentialOptions | undefined> = [];
  const credentials = async (o?: CredentialOptions) => {
    asked.push(o);
    return answers[asked.length - 1];
  };
  return { asked, credentials };
}
const acceptsOnly = (good: string) => async (auth: MailAuth) =>
  auth.kind === 'xoauth2' && auth.accessToken === good ? 'ok' : 'AUTH_FAILED';
const refused = (r: string) => r === 'AUTH_FAILED';

test('a refused cached token: one forced refresh naming the refused token, then the login again', async () => {
  const p = provider([oauth('old', true), oauth('new', false)]);
  const r = await loginWithTokenRetry(p.credentials, acceptsOnly('new'), refused);
  assert.equal(r.ok && r.result, 'ok');
  assert.equal(r.refreshedAfterRefusal, true);
  assert.deepEqual(p.asked, [undefined, { forceRefresh: true, refusedAccessToken: 'old' }]);
});

test('a refresh refused by Google after the server refused the token: the provider failure, with the first login', async () => {
  const p = provider([oauth('old', true), revoked]);
  const r = await loginWithTokenRetry(p.credentials, acceptsOnly('new'), refused);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.credentials.failure.code, 'TOKEN_REVOKED');
  assert.equal(!r.ok && r.first, 'AUTH_FAILED');
});

test('no second try for a token refreshed just now, for a password, or for another failure', async () => {
  for (const [first, login] of [
    [oauth('fresh', false), acceptsOnly('other')],
    [{ ok: true, passed: [], auth: { kind: 'password', user: 'u', password: 'p' } }, async () => 'AUTH_FAILED'],
    [oauth('old', true), async () => 'TIMEOUT'],
  ] as const) {
    const p = provider([first as CredentialResult, oauth('new', false)]);
    const r = await loginWithTokenRetry(p.credentials, login, refused);
    assert.equal(r.refreshedAfterRefusal, false);
    assert.equal(p.asked.length, 1);
  }
});
