// The IMAP cursor against a real Dovecot, on both engines: a UIDVALIDITY change synchronizes again without
// duplicates; the first synchronization goes back to Process Email From in batches and no further; a credentials
// profile signs in with the mailbox's password.
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

for (const mode of dbModes()) {
  describe(`IMAP synchronization cursor [${mode}]`, () => {
    const s = syncSuite(mode, SETTINGS, { allowedErrors: EXPECTED_IMAP_ERRORS });
    const { connected, arrived, emails, syncRow, newMailbox, prisma } = s;

    it('a UIDVALIDITY change synchronizes again without duplicates', async () => {
      const { mailbox, email } = await newMailbox();
      await connected(mailbox.id);
      const a = mailMessage(email, 'before the renumbering');
      await s.w.dovecot.deliver(email, a.raw);
      await arrived(mailbox.id, a.messageId);
      const before = (await syncRow(mailbox.id))?.uidValidity;
      await s.w.dovecot.changeUidValidity(email);
      const after = await s.w.dovecot.uidValidity(email);
      await until(
        'new UIDVALIDITY stored',
        async () => ((await syncRow(mailbox.id))?.uidValidity === BigInt(after) ? true : undefined),
        WAIT,
      );
      assert.notEqual(before, BigInt(after));
      const b = mailMessage(email, 'after the renumbering');
      await s.w.dovecot.deliver(email, b.raw);
      await arrived(mailbox.id, b.messageId);
      await until(
        'first synchronization done again',
        async () => ((await syncRow(mailbox.id))?.firstSyncDoneAt ? true : undefined),
        WAIT,
      );
      assert.deepEqual((await emails(mailbox.id)).map((e) => e.messageId).sort(), [a.messageId, b.messageId].sort());
    });
    it('the first synchronization fetches older mail back to Process Email From, in batches, and no further', async () => {
      const day = 24 * 3600_000;
      const { mailbox, email } = await newMailbox({}, { processEmailFrom: new Date(Date.now() - 2 * day) });
      await prisma().mailbox.update({ where: { id: mailbox.id }, data: { enabledForIncoming: false } });
      const old = mailMessage(email, 'too old', { date: new Date(Date.now() - 5 * day) });
      await s.w.dovecot.deliver(email, old.raw, { internalDate: new Date(Date.now() - 5 * day) });
      const inRange = [];
      for (let i = 0; i < 5; i++) {
        const m = mailMessage(email, `in range ${i}`);
        await s.w.dovecot.deliver(email, m.raw, { internalDate: new Date(Date.now() - day + i * 60_000) });
        inRange.push(m);
      }
      await prisma().mailbox.update({ where: { id: mailbox.id }, data: { enabledForIncoming: true } });
      await until(
        'first synchronization done',
        async () => ((await syncRow(mailbox.id))?.firstSyncDoneAt ? true : undefined),
        WAIT,
      );
      const fresh = mailMessage(email, 'new while synchronizing');
      await s.w.dovecot.deliver(email, fresh.raw);
      await arrived(mailbox.id, fresh.messageId);
      const ids = (await emails(mailbox.id)).map((e) => e.messageId);
      assert.deepEqual(ids.slice().sort(), [...inRange, fresh].map((m) => m.messageId).sort());
      assert.ok(!ids.includes(old.messageId));
    });
    it('a credentials profile signs in with the mailbox user name and password', async () => {
      const { mailbox, email } = await newMailbox({ auth: 'CREDENTIALS_PER_MAILBOX' });
      await connected(mailbox.id);
      const m = mailMessage(email, 'password login');
      await s.w.dovecot.deliver(email, m.raw);
      await arrived(mailbox.id, m.messageId);
    });
  });
}
