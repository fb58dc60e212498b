// The connection budget policy: per mailbox (Dynamics' rule for per-mailbox credentials) plus Gmail's 15 IMAP
// connections per account, which two mailboxes logging in as one account share.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionClaims } from '../../src/sync/connections.ts';

describe('connectionClaims', () => {
  const base = { mailboxId: 'm1', maxConcurrentConnections: 3, host: 'imap.gmail.com', login: 'Ada@Gmail.com' };
  it("IMAP counts against the mailbox's Maximum Concurrent Connections and the account's 15", () => {
    assert.deepEqual(connectionClaims({ ...base, protocol: 'imap' }), [
      { key: 'mailbox:m1', limit: 3 },
      { key: 'imap-account:imap.gmail.com:ada@gmail.com', limit: 15 },
    ]);
  });
  it("POP3 and SMTP only against the mailbox's budget", () => {
    assert.deepEqual(connectionClaims({ ...base, protocol: 'smtp', host: 'smtp.gmail.com' }), [
      { key: 'mailbox:m1', limit: 3 },
    ]);
    assert.deepEqual(connectionClaims({ ...base, protocol: 'pop3', host: 'pop.gmail.com' }), [
      { key: 'mailbox:m1', limit: 3 },
    ]);
  });
  it('two mailboxes that log in as one account share its 15; a cap below 1 still allows one connection', () => {
    const a = connectionClaims({ ...base, protocol: 'imap' })[1];
    const b = connectionClaims({ ...base, mailboxId: 'm2', login: 'ada@gmail.com', protocol: 'imap' })[1];
    assert.equal(a.key, b.key);
    assert.equal(connectionClaims({ ...base, maxConcurrentConnections: 0, protocol: 'pop3' })[0].limit, 1);
  });
});
