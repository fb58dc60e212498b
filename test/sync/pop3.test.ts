// The POP3 engine against a real Dovecot (decision 011) and the Google fake, on both engines: each poll fetches
// what UIDL says is new, stores it once, deletes nothing, skips mail older than Process Email From, and shows
// "Polling every N min"; a disabled mailbox stops polling.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { dbModes } from '../helpers/db.ts';
import { until } from '../helpers/until.ts';
import { SYNC_WAIT as WAIT, mailMessage, syncSuite } from '../helpers/sync-world.ts';

const POLL_MS = 300;

for (const mode of dbModes()) {
  describe(`POP3 synchronization [${mode}]`, () => {
    const s = syncSuite(mode, { pollMs: POLL_MS, retry: { retryLimit: 10, baseMs: 300, maxMs: 2_000, slowMs: 5_000 } });
    const { prisma, syncRow, emails, arrived } = s;
    const newMailbox = (m: { processEmailFrom?: Date; enabled?: boolean; auth?: 'CREDENTIALS_PER_MAILBOX' } = {}) =>
      s.newMailbox({ serverType: 'POP3', auth: m.auth }, { processEmailFrom: m.processEmailFrom, enabled: m.enabled });
    /** Waits for `n` more completed polls of the mailbox (each one writes updatedAt). */
    async function polls(mailboxId: string, n: number) {
      for (let i = 0; i < n; i++) {
        const before = (await syncRow(mailboxId))?.updatedAt.getTime() ?? 0;
        await until(
          'a poll',
          async () => ((await syncRow(mailboxId))!.updatedAt.getTime() > before ? true : undefined),
          WAIT,
        );
      }
    }

    it('a poll stores new mail once and leaves it on the server', async () => {
      const { mailbox, email } = await newMailbox();
      const m = mailMessage(email, 'Hello over POP3');
      await s.w.dovecot.deliver(email, m.raw);
      const stored = await arrived(mailbox.id, m.messageId);
      assert.equal(stored.subject, 'Hello over POP3');
      assert.ok(stored.pop3Uidl);
      await polls(mailbox.id, 3);
      const m2 = mailMessage(email, 'Second over POP3');
      await s.w.dovecot.deliver(email, m2.raw);
      await arrived(mailbox.id, m2.messageId);
      await polls(mailbox.id, 2);
      assert.equal((await emails(mailbox.id)).length, 2);
      assert.equal((await syncRow(mailbox.id))?.messagesSynced, 2);
      assert.equal((await syncRow(mailbox.id))?.state, 'POLLING');
      assert.equal((await s.w.dovecot.listFolder(email)).length, 2, 'nothing deleted from the server');
      const { client } = await s.ctx.signedIn('ADMIN');
      assert.match((await client.get(`/mailboxes/${mailbox.id}`)).text, /Polling every 1 min/);
    });

    it('the first poll skips mail older than Process Email From; a credentials profile uses the password', async () => {
      const day = 24 * 3600_000;
      const { mailbox, email } = await newMailbox({
        processEmailFrom: new Date(Date.now() - 2 * day),
        enabled: false,
        auth: 'CREDENTIALS_PER_MAILBOX',
      });
      const old = mailMessage(email, 'old', { date: new Date(Date.now() - 5 * day) });
      const recent = mailMessage(email, 'recent', { date: new Date(Date.now() - day) });
      await s.w.dovecot.deliver(email, old.raw);
      await s.w.dovecot.deliver(email, recent.raw);
      await prisma().mailbox.update({ where: { id: mailbox.id }, data: { enabledForIncoming: true } });
      await arrived(mailbox.id, recent.messageId);
      await polls(mailbox.id, 2);
      assert.deepEqual(
        (await emails(mailbox.id)).map((e) => e.messageId),
        [recent.messageId],
      );
      assert.ok((await syncRow(mailbox.id))?.firstSyncDoneAt);
    });

    it('a disabled mailbox stops polling', async () => {
      const { mailbox, email } = await newMailbox();
      const a = mailMessage(email, 'before disabling');
      await s.w.dovecot.deliver(email, a.raw);
      await arrived(mailbox.id, a.messageId);
      await prisma().mailbox.update({ where: { id: mailbox.id }, data: { enabledForIncoming: false } });
      await until(
        'session stopped',
        async () => (s.ctx.workers?.sync?.running().includes(mailbox.id) ? undefined : true),
        WAIT,
      );
      const b = mailMessage(email, 'after disabling');
      await s.w.dovecot.deliver(email, b.raw);
      await sleep(POLL_MS * 5);
      assert.deepEqual(
        (await emails(mailbox.id)).map((e) => e.messageId),
        [a.messageId],
      );
    });
  });
}
