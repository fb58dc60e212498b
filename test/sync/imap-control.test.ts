// IMAP synchronization under control against a real Dovecot and the Google fake, on both engines: a temporary
// failure is retried and never disables; disabling or disconnecting closes the connection and enabling starts it;
// a waiter on the profile's connection budget gets the IDLE session's slot.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dbModes } from '../helpers/db.ts';
import { until } from '../helpers/until.ts';
import {
  EXPECTED_IMAP_ERRORS,
  IMAP_SETTINGS as SETTINGS,
  SYNC_WAIT as WAIT,
  mailMessage,
  syncSuite,
} from '../helpers/sync-world.ts';
import { connectionClaims } from '../../src/sync/connections.ts';

for (const mode of dbModes()) {
  describe(`IMAP synchronization control [${mode}]`, () => {
    const s = syncSuite(mode, SETTINGS, { allowedErrors: EXPECTED_IMAP_ERRORS });
    const { connected, arrived, emails, syncRow, newMailbox, prisma } = s;

    it('a temporary failure is retried with backoff and never disables the mailbox', async () => {
      const { mailbox, email, accessToken } = await newMailbox();
      await connected(mailbox.id);
      assert.ok(accessToken && s.w.google.expireAccessToken(accessToken));
      s.w.google.failTokenEndpoint(2, 503);
      await s.w.dovecot.kick(email);
      const warning = await until(
        'retry announced',
        () =>
          prisma()
            .alert.findFirst({ where: { mailboxId: mailbox.id, level: 'WARNING' } })
            .then((a) => a ?? undefined),
        WAIT,
      );
      assert.match(warning.message, /retry 1 of 10, next at/);
      await until(
        'resumed',
        () =>
          prisma()
            .alert.findFirst({ where: { mailboxId: mailbox.id, code: 'SYNC_RESUMED' } })
            .then((a) => a ?? undefined),
        WAIT,
      );
      await connected(mailbox.id);
      const m = await prisma().mailbox.findUniqueOrThrow({ where: { id: mailbox.id } });
      assert.equal(m.enabledForIncoming, true);
      assert.equal(m.incomingStatus, 'SUCCESS');
      assert.equal((await syncRow(mailbox.id))?.retryCount, 0);
      const c = mailMessage(email, 'after the outage');
      await s.w.dovecot.deliver(email, c.raw);
      await arrived(mailbox.id, c.messageId);
    });
    it('disabling or disconnecting a mailbox closes its connection within seconds; enabling starts it again', async () => {
      const one = await newMailbox();
      const two = await newMailbox();
      await connected(one.mailbox.id);
      await connected(two.mailbox.id);
      await prisma().mailbox.update({ where: { id: one.mailbox.id }, data: { enabledForIncoming: false } });
      await prisma().gmailGrant.delete({ where: { mailboxId: two.mailbox.id } });
      for (const e of [one.email, two.email])
        await until(
          `${e} disconnected`,
          async () => ((await s.w.dovecot.connections(e)) === 0 ? true : undefined),
          WAIT,
        );
      await prisma().mailbox.update({ where: { id: one.mailbox.id }, data: { enabledForIncoming: true } });
      await connected(one.mailbox.id);
      const m = mailMessage(one.email, 'enabled again');
      await s.w.dovecot.deliver(one.email, m.raw);
      await arrived(one.mailbox.id, m.messageId);
    });
    it('gives its connection slot to a waiting connection when asked, then reconnects and catches up by UID', async () => {
      const { mailbox, email } = await newMailbox({ maxConcurrentConnections: 1 });
      await connected(mailbox.id);
      const sem = s.ctx.workers!.cluster.semaphore;
      const claims = connectionClaims({
        profileId: mailbox.profileId!,
        maxConcurrentConnections: 1,
        protocol: 'imap',
        host: '127.0.0.1',
        login: email,
      });
      // What Test & Enable does with the shared budget: wait for a slot; the IDLE session is asked to yield.
      const permit = await sem.acquire(claims, { purpose: `test:${mailbox.id}` });
      await until(
        'IDLE connection closed',
        async () => ((await s.w.dovecot.connections(email)) === 0 ? true : undefined),
        WAIT,
      );
      const m = mailMessage(email, 'delivered while the slot was lent');
      await s.w.dovecot.deliver(email, m.raw);
      await permit.release();
      await arrived(mailbox.id, m.messageId);
      await connected(mailbox.id);
      assert.equal((await emails(mailbox.id)).length, 1);
    });
  });
}
