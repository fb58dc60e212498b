// Unit tests of the synchronization health rules: refresh once, stop at once, back off and retry (visibly, to the
// second), keep trying transient trouble past the limit, recover, the profile rule, and failed-message alerts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapError } from '../../src/mail/errors.ts';
import { failure } from '../../src/mail/hints.ts';
import {
  backoffMs,
  clock,
  decideFailure,
  decideProfileHealth,
  decideRecovery,
  DEFAULT_RETRY_POLICY,
  failedMessageAlert,
  undeliverableAction,
  type HealthDecision,
  type HealthInput,
  type SyncFailure,
} from '../../src/sync/health.ts';

const NOW = new Date('2026-12-01T14:02:00.000Z');
const f = (code: Parameters<typeof failure>[0], message = 'server said no'): SyncFailure => ({
  ...failure(code),
  message,
});
const decide = (o: Partial<HealthInput> & { failure: SyncFailure }): HealthDecision =>
  decideFailure({
    auth: 'xoauth2',
    retryCount: 0,
    refreshedAfterAuthFailure: false,
    now: NOW,
    random: () => 0.5,
    ...o,
  });
const as = <A extends HealthDecision['action']>(d: HealthDecision, action: A) => {
  assert.equal(d.action, action, JSON.stringify(d));
  return d as Extract<HealthDecision, { action: A }>;
};

describe('decideFailure: permanent failures stop at once', () => {
  it('an XOAUTH2 rejection refreshes the token once before deciding', () => {
    as(decide({ failure: f('AUTH_FAILED') }), 'refresh-token');
    const d = as(decide({ failure: f('AUTH_FAILED'), refreshedAfterAuthFailure: true }), 'stop');
    assert.equal(d.badge, 'SIGN_IN_AGAIN');
  });
  it('a rejected password stops at once (nothing to refresh) and points at the mailbox', () => {
    const d = as(decide({ failure: f('AUTH_FAILED'), auth: 'password' }), 'stop');
    assert.equal(d.badge, 'FIX_MAILBOX');
  });
  const cases: [string, string][] = [
    ['TOKEN_REVOKED', 'SIGN_IN_AGAIN'],
    ['MISSING_SCOPE', 'SIGN_IN_AGAIN'],
    ['NOT_SIGNED_IN', 'SIGN_IN_AGAIN'],
    ['ACCOUNT_MISMATCH', 'SIGN_IN_AGAIN'],
    ['IMAP_DISABLED', 'CHANGE_GMAIL_SETTING'],
    ['POP_DISABLED', 'CHANGE_GMAIL_SETTING'],
    ['ADMIN_POLICY', 'CHANGE_GMAIL_SETTING'],
    ['OAUTH_CLIENT', 'FIX_PROFILE'],
    ['TLS_HANDSHAKE', 'FIX_PROFILE'],
    ['TLS_REQUIRED', 'FIX_PROFILE'],
    ['CREDENTIALS_MISSING', 'FIX_MAILBOX'],
  ];
  for (const [code, badge] of cases) {
    it(`${code} → stop, Failure, disabled, ${badge}`, () => {
      const fl: SyncFailure = { code, transient: false, message: `${code} happened`, hint: 'do this' };
      const d = as(decide({ failure: fl, retryCount: 4 }), 'stop');
      assert.deepEqual(
        [d.state, d.incomingStatus, d.enabledForIncoming, d.badge],
        ['STOPPED', 'FAILURE', false, badge],
      );
      assert.equal(d.stoppedReason, `${code}: ${code} happened`);
      assert.equal(d.alert.level, 'ERROR');
      assert.equal(d.alert.code, code);
      assert.match(d.alert.message, /stopped and the mailbox was disabled for incoming email/);
      assert.equal(d.alert.hint, 'do this');
    });
  }
  it("a revoked grant read from Google's token endpoint says Sign in to Gmail again", () => {
    const d = as(
      decide({ failure: f('TOKEN_REVOKED', 'Google refused to refresh the access token: invalid_grant') }),
      'stop',
    );
    assert.match(d.alert.message, /Sign in to Gmail again/);
    assert.match(d.alert.hint, /Sign in to Gmail again/);
  });
});

describe('decideFailure: transient failures back off and retry', () => {
  it("Gmail's NO [UNAVAILABLE] is retried, not a sign-in failure (through the one error map)", () => {
    const mapped = mapError(
      Object.assign(new Error('Command failed'), {
        response: 'A1 NO [UNAVAILABLE] Temporary authentication failure. (Failure)',
        authenticationFailed: true,
      }),
      { protocol: 'imap', auth: 'xoauth2' },
    );
    const d = as(decide({ failure: mapped }), 'retry');
    assert.equal(d.retryCount, 1);
  });
  it('POP3 [SYS/TEMP], too many connections and SMTP 454 are retried too', () => {
    as(
      decide({ failure: mapError(new Error('-ERR [SYS/TEMP] Temporary system problem.'), { protocol: 'pop3' }) }),
      'retry',
    );
    as(
      decide({
        failure: mapError(
          Object.assign(new Error('x'), { response: 'A1 NO [ALERT] Too many simultaneous connections. (Failure)' }),
          { protocol: 'imap' },
        ),
      }),
      'retry',
    );
    as(
      decide({
        failure: mapError(Object.assign(new Error('x'), { responseCode: 454, response: '454 4.7.0 Try again later' }), {
          protocol: 'smtp',
        }),
      }),
      'retry',
    );
  });
  it('says "retry n of 10, next at HH:MM:SS UTC" with a growing, jittered delay; one warning on the first', () => {
    const first = as(decide({ failure: f('CONNECTION_RESET', 'the connection was dropped') }), 'retry');
    // base 5 s, jitter 0.5 → 3.75 s: 14:02:00 + 3.75 s
    assert.equal(first.nextAttemptAt.toISOString(), '2026-12-01T14:02:03.750Z');
    assert.equal(first.label, 'retry 1 of 10, next at 14:02:03 UTC');
    assert.deepEqual([first.state, first.incomingStatus], ['BACKING_OFF', null]);
    assert.equal(first.alert?.level, 'WARNING');
    assert.match(
      first.alert!.message,
      /interrupted: the connection was dropped\. Mailroom will retry 1 of 10, next at 14:02:03 UTC\./,
    );
    const third = as(decide({ failure: f('CONNECTION_RESET'), retryCount: 2 }), 'retry');
    assert.equal(third.label, 'retry 3 of 10, next at 14:02:15 UTC');
    assert.equal(third.alert, null);
  });
  it('backoff doubles from 5 s within [d/2, d] and is capped at 15 minutes', () => {
    const p = DEFAULT_RETRY_POLICY;
    assert.deepEqual(
      [1, 2, 3].map((n) => [backoffMs(n, p, () => 0), backoffMs(n, p, () => 1)]),
      [
        [2500, 5000],
        [5000, 10000],
        [10000, 20000],
      ],
    );
    assert.equal(
      backoffMs(10, p, () => 1),
      15 * 60_000,
    );
    assert.equal(
      backoffMs(30, p, () => 0),
      7.5 * 60_000,
    );
  });
  it('past the limit, transient trouble is still retried every ~15 minutes: Failure, one error alert, never disabled', () => {
    const over = as(decide({ failure: f('TIMEOUT', 'no answer'), retryCount: 10 }), 'retry');
    assert.deepEqual([over.retryCount, over.incomingStatus, over.alert?.level], [11, 'FAILURE', 'ERROR']);
    assert.match(
      over.alert!.message,
      /still fails after 10 retries: no answer\. Mailroom keeps trying every 15 minutes/,
    );
    const delay = over.nextAttemptAt.getTime() - NOW.getTime();
    assert.ok(delay >= 11.25 * 60_000 && delay <= 15 * 60_000, String(delay));
    assert.match(over.label, /^retry 11, every 15 min after 10 failed retries, next at \d\d:\d\d:\d\d UTC$/);
    const later = as(decide({ failure: f('TIMEOUT'), retryCount: 11 }), 'retry');
    assert.equal(later.alert, null);
  });
  it('DNS and certificate failures are retried, then stop with the profile to fix; unknown ones stop without a badge', () => {
    as(decide({ failure: f('DNS'), retryCount: 9 }), 'retry');
    assert.equal(as(decide({ failure: f('DNS'), retryCount: 10 }), 'stop').badge, 'FIX_PROFILE');
    assert.equal(as(decide({ failure: f('TLS_CERT'), retryCount: 10 }), 'stop').badge, 'FIX_PROFILE');
    as(decide({ failure: f('UNKNOWN'), retryCount: 3 }), 'retry');
    const d = as(decide({ failure: f('UNKNOWN', 'odd answer'), retryCount: 10 }), 'stop');
    assert.equal(d.badge, null);
    assert.match(
      d.alert.message,
      /stopped after 10 retries.*odd answer\. Select Test & Enable Mailbox to start it again\./,
    );
  });
  it('times are to the second, with the date when the next attempt is on another day', () => {
    assert.equal(clock(new Date('2026-12-01T23:59:59.900Z'), NOW), '23:59:59 UTC');
    assert.equal(clock(new Date('2026-12-02T00:10:05Z'), NOW), '2026-12-02 00:10:05 UTC');
  });
});

describe('decideRecovery', () => {
  it('nothing to say when nothing failed', () =>
    assert.deepEqual(decideRecovery({ retryCount: 0, incomingStatus: 'SUCCESS' }), {
      retryCount: 0,
      incomingStatus: null,
      alert: null,
    }));
  it('after failures: one info alert, and Failure turns back to Success', () => {
    const r = decideRecovery({ retryCount: 12, incomingStatus: 'FAILURE' });
    assert.deepEqual(
      [r.retryCount, r.incomingStatus, r.alert?.level, r.alert?.message],
      [0, 'SUCCESS', 'INFO', 'Synchronization resumed after 12 failed attempts.'],
    );
    assert.equal(decideRecovery({ retryCount: 1, incomingStatus: 'SUCCESS' }).incomingStatus, null);
  });
});

describe('decideProfileHealth: more than half of the mailboxes failed in the last hour', () => {
  const ago = (min: number) => new Date(NOW.getTime() - min * 60_000);
  const mb = (syncing: boolean, failedMinAgo: number | null) => ({
    syncing,
    lastFailureAt: failedMinAgo === null ? null : ago(failedMinAgo),
  });
  it('3 of 5 → failing, error alert naming the counts', () => {
    const r = decideProfileHealth({
      mailboxes: [mb(true, 5), mb(true, 10), mb(false, 50), mb(true, null), mb(true, null)],
      now: NOW,
      lastAlertAt: null,
    });
    assert.deepEqual([r.failing, r.failed, r.total], [true, 3, 5]);
    assert.equal(r.alert?.level, 'ERROR');
    assert.equal(r.alert?.message, '3 of 5 mailboxes of this profile failed to synchronize in the last hour.');
  });
  it('exactly half is not more than half', () => {
    assert.equal(
      decideProfileHealth({
        mailboxes: [mb(true, 5), mb(true, 5), mb(true, null), mb(true, null)],
        now: NOW,
        lastAlertAt: null,
      }).failing,
      false,
    );
  });
  it('failures older than an hour do not count; a mailbox stopped long ago is not counted at all', () => {
    const r = decideProfileHealth({
      mailboxes: [mb(true, 61), mb(true, 90), mb(true, 5), mb(false, 120)],
      now: NOW,
      lastAlertAt: null,
    });
    assert.deepEqual([r.failing, r.failed, r.total], [false, 1, 3]);
  });
  it('one alert per hour at most; none for a profile without synchronizing mailboxes', () => {
    const failing = [mb(true, 1), mb(true, 2)];
    assert.equal(decideProfileHealth({ mailboxes: failing, now: NOW, lastAlertAt: ago(30) }).alert, null);
    assert.ok(decideProfileHealth({ mailboxes: failing, now: NOW, lastAlertAt: ago(61) }).alert);
    assert.deepEqual(decideProfileHealth({ mailboxes: [mb(false, null)], now: NOW, lastAlertAt: null }), {
      failing: false,
      failed: 0,
      total: 0,
      alert: null,
    });
  });
});

describe('failed messages', () => {
  it('move to Undeliverable only on IMAP and only when the profile says so', () => {
    assert.equal(undeliverableAction({ moveFailedToUndeliverable: true, protocol: 'imap' }), 'move');
    assert.equal(undeliverableAction({ moveFailedToUndeliverable: false, protocol: 'imap' }), 'leave');
    assert.equal(undeliverableAction({ moveFailedToUndeliverable: true, protocol: 'pop3' }), 'leave');
  });
  it('a warning names the message and says where it is', () => {
    const m = {
      subject: 'Scanned archive',
      fromAddress: 'big@example.com',
      imapUid: 42n,
      reason: 'The message is 60.0 MB, over the 52.0 MB limit.',
    };
    const moved = failedMessageAlert(m, 'moved');
    assert.equal(moved.level, 'WARNING');
    assert.equal(
      moved.message,
      'The email "Scanned archive" from big@example.com (UID 42) could not be processed: The message is 60.0 MB, over the 52.0 MB limit. It was moved to the Undeliverable folder.',
    );
    assert.match(failedMessageAlert(m, 'left').hint, /Move Failed Emails to Undeliverable/);
    assert.match(
      failedMessageAlert({ subject: '', fromAddress: '', pop3Uidl: 'GmailId9', reason: 'x.' }, 'move-failed').message,
      /^The email \(no subject\) \(UIDL GmailId9\) could not be processed: x\. Moving it to the Undeliverable folder failed/,
    );
  });
});
