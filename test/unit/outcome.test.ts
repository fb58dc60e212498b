// decideOutcome and the hint after the last retry: pure rules, no servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideOutcome, gaveUpHint } from '../../src/checks/outcome.ts';
import { FAILURE_CODES, failure } from '../../src/mail/hints.ts';
import type { Step } from '../../src/mail/types.ts';

const ok = (id: string): Step => ({ id, label: id, status: 'ok' });
const timeout: Step = {
  id: 'incoming-login',
  label: 'Incoming sign-in',
  status: 'fail',
  code: 'TIMEOUT',
  message: 'No answer within 30 s.',
  hint: failure('TIMEOUT').hint,
  transient: true,
};
const input = (attempt: number) => ({
  steps: [ok('token'), ok('account'), timeout, ok('outgoing-login')],
  incomingChecked: true,
  outgoingChecked: true,
  approved: true,
  attempt,
  retryLimit: 3,
});

test('a transient failure retries up to the limit, then gives up and says so', () => {
  for (const attempt of [1, 2, 3]) {
    const o = decideOutcome(input(attempt));
    assert.equal(o.retry, true);
    assert.equal(o.gaveUp, false);
  }
  const last = decideOutcome(input(4));
  assert.equal(last.retry, false);
  assert.equal(last.gaveUp, true);
  assert.equal(last.incomingStatus, 'FAILURE');
  assert.equal(last.outgoingStatus, 'SUCCESS');
  assert.match(last.alert.message, /^Incoming sign-in: No answer within 30 s\. Gave up after 4 attempts\.$/);
  assert.doesNotMatch(last.alert.hint, /will try again/);
  assert.match(
    last.alert.hint,
    /^The server did not answer in time\. Test & Enable Mailbox tried 4 times and stopped trying\. Check the port/,
  );
  assert.match(last.alert.hint, /, then select Test & Enable Mailbox again\.$/);
});

test('a permanent failure neither retries nor claims to have given up', () => {
  const steps = [
    ok('token'),
    ok('account'),
    { ...timeout, code: 'IMAP_DISABLED', transient: false, hint: 'Enable IMAP.' },
  ];
  const o = decideOutcome({ ...input(1), steps });
  assert.equal(o.retry, false);
  assert.equal(o.gaveUp, false);
  assert.equal(o.alert.hint, 'Enable IMAP.');
});

test('every transient hint reads as a final hint once the retries are used up', () => {
  for (const code of FAILURE_CODES) {
    const f = failure(code);
    if (!f.transient) continue;
    const h = gaveUpHint(f.hint, 4);
    assert.doesNotMatch(h, /will try again/, code);
    assert.match(h, /tried 4 times and stopped trying\./, code);
  }
  assert.equal(
    gaveUpHint('Google is having trouble; Test & Enable Mailbox will try again automatically.', 4),
    'Google is having trouble; Test & Enable Mailbox tried 4 times and stopped trying. Select Test & Enable Mailbox again later.',
  );
});

// Issue 13 item 2: the retry follows the most severe permanent step, not "every failed step is transient".
const fail = (id: string, code: string): Step => ({
  id,
  label: id,
  status: 'fail',
  code,
  message: `${code} happened.`,
  hint: failure(code as Parameters<typeof failure>[0]).hint,
  transient: failure(code as Parameters<typeof failure>[0]).transient,
});

test("a side's own permanent failure does not stop the other side's retry; the final alert names the permanent one", () => {
  // Gmail's SMTP answered 421 (try later) while IMAP is turned off in Gmail: another attempt may still enable Outgoing.
  const steps = [
    ok('token'),
    ok('account'),
    fail('incoming-login', 'IMAP_DISABLED'),
    fail('outgoing-login', 'SMTP_TEMPORARY'),
  ];
  const first = decideOutcome({ ...input(1), steps });
  assert.equal(first.retry, true);
  assert.equal(first.alert.code, 'SMTP_TEMPORARY', 'while retrying, the warning is about the temporary failure');
  const last = decideOutcome({ ...input(4), steps });
  assert.equal(last.retry, false);
  assert.equal(last.gaveUp, true);
  assert.equal(last.alert.code, 'IMAP_DISABLED', 'what the admin must fix comes first');
  assert.doesNotMatch(last.alert.message, /Gave up/, 'a permanent failure was never retried');
  assert.equal(last.alert.hint, failure('IMAP_DISABLED').hint);
});

test('a mailbox-wide permanent failure (a refused sign-in) stops every retry, whatever else was transient', () => {
  for (const steps of [
    [ok('token'), ok('account'), fail('incoming-login', 'AUTH_FAILED'), fail('outgoing-login', 'SMTP_TEMPORARY')],
    [ok('token'), ok('account'), fail('incoming-login', 'TIMEOUT'), fail('outgoing-login', 'AUTH_FAILED')],
    [fail('token', 'TOKEN_REVOKED'), fail('outgoing-login', 'TIMEOUT')],
  ]) {
    const o = decideOutcome({ ...input(1), steps });
    assert.equal(o.retry, false, JSON.stringify(steps.map((s) => s.code)));
    assert.equal(o.gaveUp, false);
    assert.match(o.alert.code, /AUTH_FAILED|TOKEN_REVOKED/);
  }
});

test("Gmail's temporary answers are retried: [UNAVAILABLE], [SYS/TEMP], [IN-USE], [LIMIT], SMTP 421/45x", () => {
  for (const code of ['SERVER_TEMPORARY', 'TOO_MANY_CONNECTIONS', 'SMTP_TEMPORARY'] as const) {
    const id = code === 'SMTP_TEMPORARY' ? 'outgoing-login' : 'incoming-login';
    const o = decideOutcome({ ...input(1), steps: [ok('token'), ok('account'), fail(id, code)] });
    assert.equal(o.retry, true, code);
  }
});
