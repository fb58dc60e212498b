// The connection budget policy (decision 022): the profile's Maximum Concurrent Connections per profile, plus Gmail's
// 15 IMAP connections per account, which two mailboxes logging in as one account share.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionClaims } from '../../src/sync/connections.ts';

describe('connectionClaims', () => {
  const base = { profileId: 'p1', maxConcurrentConnections: 3, host: 'imap.gmail.com', login: 'Ada@Gmail.com' };
  it("IMAP counts against the profile's Maximum Concurrent Connections and the account's 15", () => {
    assert.deepEqual(connectionClaims({ ...base, protocol: 'imap' }), [
      { key: 'profile:p1', limit: 3 },
      { key: 'imap-account:imap.gmail.com:ada@gmail.com', limit: 15 },
    ]);
  });
  it("POP3 and SMTP only against the profile's budget", () => {
    assert.deepEqual(connectionClaims({ ...base, protocol: 'smtp', host: 'smtp.gmail.com' }), [
      { key: 'profile:p1', limit: 3 },
    ]);
    assert.deepEqual(connectionClaims({ ...base, protocol: 'pop3', host: 'pop.gmail.com' }), [
      { key: 'profile:p1', limit: 3 },
    ]);
  });
  it('mailboxes of one profile share its budget; one account shares its 15; a cap below 1 still allows one', async () => {
    const m1 = connectionClaims({ ...base, protocol: 'imap' });
    const m2 = connectionClaims({ ...base, login: 'bob@gmail.com', protocol: 'imap' });
    assert.equal(m1[0].key, m2[0].key, 'two mailboxes of one profile count against one key');
    assert.notEqual(m1[1].key, m2[1].key);
    const again = connectionClaims({ ...base, profileId: 'p2', login: 'ada@gmail.com', protocol: 'imap' })[1];
    assert.equal(m1[1].key, again.key);
    assert.equal(connectionClaims({ ...base, maxConcurrentConnections: 0, protocol: 'pop3' })[0].limit, 1);
    const live = connectionClaims({ ...base, maxConcurrentConnections: () => 0, protocol: 'pop3' })[0].limit;
    assert.equal(typeof live === 'function' ? await live() : live, 1, 'a limit read at runtime is clamped too');
  });
});
