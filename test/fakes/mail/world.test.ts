// Unit tests of the mail world: SASL payload decoding, the Google-fake adapter and Gmail's login order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  bearerVerifierFrom,
  checkLogin,
  decodeOauthbearer,
  decodePlain,
  decodeXoauth2,
  MAIL_SCOPE,
  type MailAccountBehaviour,
} from './world.ts';
import { b64 } from './raw-client.ts';

describe('SASL decoding', () => {
  it('reads XOAUTH2, OAUTHBEARER and PLAIN', () => {
    assert.deepEqual(decodeXoauth2(b64('user=a@b.c\x01auth=Bearer t0k\x01\x01')), {
      kind: 'bearer',
      user: 'a@b.c',
      token: 't0k',
    });
    assert.deepEqual(decodeOauthbearer(b64('n,a=a@b.c,\x01host=localhost\x01port=993\x01auth=Bearer t0k\x01\x01')), {
      kind: 'bearer',
      user: 'a@b.c',
      token: 't0k',
    });
    assert.deepEqual(decodePlain(b64('\x00a@b.c\x00pw')), { kind: 'password', user: 'a@b.c', password: 'pw' });
    assert.equal(decodeXoauth2(b64('garbage')), null);
  });
});

describe('bearerVerifierFrom', () => {
  it('needs a valid token for the same account with the mail scope', async () => {
    const verify = bearerVerifierFrom((t) =>
      t === 'full'
        ? { ok: true, email: 'A@b.c', scopes: [MAIL_SCOPE] }
        : t === 'narrow'
          ? { ok: true, email: 'a@b.c', scopes: ['openid'] }
          : { ok: false },
    );
    assert.equal(await verify('a@b.c', 'full'), true);
    assert.equal(await verify('other@b.c', 'full'), false);
    assert.equal(await verify('a@b.c', 'narrow'), false);
    assert.equal(await verify('a@b.c', 'nope'), false);
  });
});

describe('checkLogin', () => {
  const ctx = (behaviour: MailAccountBehaviour, active = 0) => ({
    verifyBearer: (_u: string, t: string) => t === 'ok',
    accounts: new Map([['a@b.c', behaviour]]),
    activeSessions: () => active,
    maxConnectionsPerUser: 2,
  });
  const bearer = (token: string) => ({ kind: 'bearer' as const, user: 'a@b.c', token });
  it('checks credentials first, then the domain policy, then the connection limit', async () => {
    assert.deepEqual(await checkLogin(ctx({ adminPolicyBlocked: true }), bearer('bad')), {
      ok: false,
      reason: 'badCredentials',
    });
    assert.deepEqual(await checkLogin(ctx({ adminPolicyBlocked: true, tooManyConnections: true }), bearer('ok')), {
      ok: false,
      reason: 'adminPolicy',
    });
    assert.deepEqual(await checkLogin(ctx({}, 2), bearer('ok')), { ok: false, reason: 'tooManyConnections' });
    assert.equal((await checkLogin(ctx({}, 1), bearer('ok'))).ok, true);
  });
  it('needs the stored password for credential logins', async () => {
    assert.equal(
      (await checkLogin(ctx({ password: 'pw' }), { kind: 'password', user: 'A@B.C', password: 'pw' })).ok,
      true,
    );
    assert.equal((await checkLogin(ctx({}), { kind: 'password', user: 'a@b.c', password: '' })).ok, false);
  });
});
