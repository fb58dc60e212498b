// The POP3 engine against a real Dovecot (decision 011) and the Google fake, on both engines: each poll fetches
// what UIDL says is new, stores it once, deletes nothing, skips mail older than Process Email From, and shows
// "Polling every N min"; a disabled mailbox stops polling.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { dbModes } from '../helpers/db.ts';
import { until } from '../helpers/until.ts';
import {
  createDovecotProfile,
  createSyncMailbox,
  mailMessage,
  startSyncWorld,
  type SyncWorld,
} from '../helpers/sync-world.ts';

const WAIT = 60_000;
const POLL_MS = 300;

for (const mode of dbModes()) {
  describe(`POP3 synchronization [${mode}]`, () => {
    let w: SyncWorld;
    let ctx: TestContext;
    let ownerId: string;

    before(async () => {
      w = await startSyncWorld();
      ctx = await createTestContext(mode, {
        jobs: true,
        sync: { pollMs: POLL_MS, retry: { retryLimit: 10, baseMs: 300, maxMs: 2_000, slowMs: 5_000 } },
        env: w.googleEnv,
        app: { mailTlsCa: w.dovecot.ca },
      });
      ownerId = (await ctx.user()).id;
    });
    after(async () => {
      await ctx?.close();
      const errors = w?.dovecot.errors() ?? [];
      await w?.close();
      assert.deepEqual(errors, [], 'Dovecot logged errors');
    });

    const prisma = () => ctx.db.prisma;
    const syncRow = (mailboxId: string) => prisma().mailboxSync.findUnique({ where: { mailboxId } });
    const emails = (mailboxId: string) => prisma().email.findMany({ where: { mailboxId } });
    const arrived = (mailboxId: string, messageId: string) =>
      until(
        `${messageId} stored`,
        async () => (await emails(mailboxId)).find((e) => e.messageId === messageId) ?? undefined,
        WAIT,
      ).catch(async (e) => {
        throw new Error(
          `${e.message}; sync: ${JSON.stringify(await syncRow(mailboxId), (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
        );
      });
    async function newMailbox(
      m: { processEmailFrom?: Date; enabled?: boolean; auth?: 'CREDENTIALS_PER_MAILBOX' } = {},
    ) {
      const profile = await createDovecotProfile(prisma(), ctx.sealer, w, { serverType: 'POP3', auth: m.auth });
      return createSyncMailbox(prisma(), ctx.sealer, w, { ownerId, profileId: profile.id, ...m });
    }
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
      await w.dovecot.deliver(email, m.raw);
      const stored = await arrived(mailbox.id, m.messageId);
      assert.equal(stored.subject, 'Hello over POP3');
      assert.ok(stored.pop3Uidl);
      await polls(mailbox.id, 3);
      const m2 = mailMessage(email, 'Second over POP3');
      await w.dovecot.deliver(email, m2.raw);
      await arrived(mailbox.id, m2.messageId);
      await polls(mailbox.id, 2);
      assert.equal((await emails(mailbox.id)).length, 2);
      assert.equal((await syncRow(mailbox.id))?.messagesSynced, 2);
      assert.equal((await syncRow(mailbox.id))?.state, 'POLLING');
      assert.equal((await w.dovecot.listFolder(email)).length, 2, 'nothing deleted from the server');
      const { client } = await ctx.signedIn('ADMIN');
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
      await w.dovecot.deliver(email, old.raw);
      await w.dovecot.deliver(email, recent.raw);
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
      await w.dovecot.deliver(email, a.raw);
      await arrived(mailbox.id, a.messageId);
      await prisma().mailbox.update({ where: { id: mailbox.id }, data: { enabledForIncoming: false } });
      await until(
        'session stopped',
        async () => (ctx.workers?.sync?.running().includes(mailbox.id) ? undefined : true),
        WAIT,
      );
      const b = mailMessage(email, 'after disabling');
      await w.dovecot.deliver(email, b.raw);
      await sleep(POLL_MS * 5);
      assert.deepEqual(
        (await emails(mailbox.id)).map((e) => e.messageId),
        [a.messageId],
      );
    });
  });
}
