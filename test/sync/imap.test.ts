// The IMAP engine end to end against a real Dovecot (decision 011) and the Google fake, on both engines: IDLE
// delivery arrives once and shows in the Emails list and on the mailbox record; a restart and a dropped connection
// lose nothing and store nothing twice.
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
import { startWorkers } from '../../src/workers.ts';

for (const mode of dbModes()) {
  describe(`IMAP synchronization [${mode}]`, () => {
    const s = syncSuite(mode, SETTINGS, { allowedErrors: EXPECTED_IMAP_ERRORS });
    const { connected, arrived, emails, syncRow, newMailbox } = s;

    it('delivers new mail through IDLE once, and it shows in the Emails list', async () => {
      const { mailbox, email } = await newMailbox();
      await connected(mailbox.id);
      assert.equal(await s.w.dovecot.connections(email), 1);
      const m = mailMessage(email, 'Hello through IDLE');
      await s.w.dovecot.deliver(email, m.raw);
      const stored = await arrived(mailbox.id, m.messageId);
      assert.equal(stored.subject, 'Hello through IDLE');
      assert.equal(stored.status, 'RECEIVED');
      // a second message, so the first would have been stored twice by now if it were going to be
      const m2 = mailMessage(email, 'Second');
      await s.w.dovecot.deliver(email, m2.raw);
      await arrived(mailbox.id, m2.messageId);
      assert.deepEqual(
        (await emails(mailbox.id)).map((e) => e.messageId),
        [m.messageId, m2.messageId],
      );
      const row = await syncRow(mailbox.id);
      assert.equal(row?.messagesSynced, 2);
      assert.ok(row?.lastMessageAt);
      const { client } = await s.ctx.signedIn('ADMIN');
      const page = await client.get('/emails');
      assert.equal(page.status, 200);
      assert.match(page.text, /Hello through IDLE/);
      const record = await client.get(`/mailboxes/${mailbox.id}`);
      assert.match(record.text, /Connected \(IDLE\)/);
    });
    it('loses nothing and stores nothing twice across a restart and a dropped connection', async () => {
      const { mailbox, email } = await newMailbox();
      await connected(mailbox.id);
      const a = mailMessage(email, 'before restart');
      await s.w.dovecot.deliver(email, a.raw);
      await arrived(mailbox.id, a.messageId);

      // Stop this process's workers (graceful: sessions closed, mailboxes released), deliver, start again.
      await s.ctx.workers?.stop();
      await until(
        'connection closed',
        async () => ((await s.w.dovecot.connections(email)) === 0 ? true : undefined),
        WAIT,
      );
      const b = mailMessage(email, 'while stopped');
      await s.w.dovecot.deliver(email, b.raw);
      s.ctx.workers = await startWorkers(s.ctx.deps, { schedules: false, sync: SETTINGS });
      await arrived(mailbox.id, b.messageId);

      // The server drops the connection: reconnect at once, catch up by UID.
      await connected(mailbox.id);
      await s.w.dovecot.kick(email);
      const c = mailMessage(email, 'after the kick');
      await s.w.dovecot.deliver(email, c.raw);
      await arrived(mailbox.id, c.messageId);
      const d = mailMessage(email, 'last');
      await s.w.dovecot.deliver(email, d.raw);
      await arrived(mailbox.id, d.messageId);
      assert.deepEqual(
        (await emails(mailbox.id)).map((e) => e.messageId).sort(),
        [a, b, c, d].map((x) => x.messageId).sort(),
      );
      assert.equal((await syncRow(mailbox.id))?.messagesSynced, 4);
    });
  });
}
