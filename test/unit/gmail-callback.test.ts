// The Gmail callback's steps on their own: taking the pending flow (once, only for its user, only while fresh) and
// checking the account Google returned, with what a refusal carries for the one error handler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Request } from 'express';
import { takePendingFlow, checkAccount, type Attempt } from '../../src/gmail/callback.ts';
import { SignInFailure } from '../../src/gmail/failure.ts';
import { FLOW_TTL_MS, type PendingFlow } from '../../src/gmail/flow-store.ts';
import type { GmailAccount } from '../../src/gmail/strategy.ts';

const user = {
  id: 'u1',
  email: 'ada@example.com',
  name: 'Ada',
  role: 'USER',
  disabledAt: null,
  createdAt: new Date(0),
} as const;
const flow = (o: Partial<PendingFlow> = {}): PendingFlow => ({
  kind: 'mailbox',
  mailboxId: 'm1',
  profileId: 'p1',
  userId: user.id,
  codeVerifier: 'verifier',
  createdAt: 1_000_000,
  ...o,
});
const req = (query: Record<string, string>, flows?: Record<string, PendingFlow>, who: unknown = user) =>
  ({ user: who, query, session: { gmailFlows: flows } }) as unknown as Request;

function refusal(fn: () => unknown): SignInFailure {
  try {
    fn();
  } catch (e) {
    if (e instanceof SignInFailure) return e;
    throw e;
  }
  assert.fail('expected a SignInFailure');
}

test('takePendingFlow takes the flow its state names out of the session, once', () => {
  const r = req({ state: 'h1', code: 'c' }, { h1: flow(), h2: flow({ mailboxId: 'm2' }) });
  const a = takePendingFlow(r, 1_000_500);
  assert.equal(a.state, 'h1');
  assert.equal(a.flow.mailboxId, 'm1');
  assert.deepEqual(Object.keys(r.session.gmailFlows!), ['h2']);
  assert.match(refusal(() => takePendingFlow(r, 1_000_500)).page.message, /already used/);
});

test('takePendingFlow refuses without a session user, without state, for another user, or when expired (and keeps those flows)', () => {
  assert.match(
    refusal(() => takePendingFlow(req({ state: 'h1' }, { h1: flow() }, null))).page.title,
    /Sign in to Mailroom first/,
  );
  assert.match(refusal(() => takePendingFlow(req({}, { h1: flow() }))).page.message, /carried no state/);
  const other = req({ state: 'h1' }, { h1: flow({ userId: 'someone-else' }) });
  assert.match(refusal(() => takePendingFlow(other, 1_000_500)).page.message, /another Mailroom user/);
  assert.ok(other.session.gmailFlows!.h1, 'a flow of another user stays for them');
  const old = req({ state: 'h1' }, { h1: flow() });
  const failure = refusal(() => takePendingFlow(old, 1_000_000 + FLOW_TTL_MS + 1));
  assert.equal(failure.status, 400);
  assert.match(failure.page.message, /15 minutes/);
  assert.equal(failure.audited, undefined, 'nothing to audit: no flow was used');
});

test('checkAccount returns the address, or refuses with the tokens to revoke and the reason to audit', () => {
  const a: Attempt = { user, state: 'h1', flow: flow(), query: { state: 'h1', code: 'c' } };
  const target = {
    mailbox: { emailAddress: 'Ada@Gmail.test' } as never,
    creds: { clientId: 'client-1', clientSecret: 's' },
  };
  const account = (email: string, scope = 'openid email https://mail.google.com/'): GmailAccount => ({
    token: { access_token: 'at', refresh_token: 'rt', expires_in: 3600, scope },
    userinfo: { sub: '1', email, email_verified: true },
  });
  assert.equal(checkAccount(a, target, account('ADA@gmail.test')), 'ada@gmail.test');
  const wrong = refusal(() => checkAccount(a, target, account('bob@gmail.test')));
  assert.equal(wrong.audited?.reason, 'wrong-account');
  assert.deepEqual(wrong.issued, { token: 'rt', googleEmail: 'bob@gmail.test', clientId: 'client-1' });
  assert.equal(
    refusal(() => checkAccount(a, target, account('ada@gmail.test', 'openid email'))).audited?.reason,
    'no-mail-scope',
  );
});
