// The IMAP engine end to end against a real Dovecot (decision 011) and the Google fake, on both engines: IDLE
// delivery arrives once and shows in the Emails list and on the mailbox record; a restart and a dropped connection
// lose nothing and store nothing twice.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
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
import { startWorkers } from '../../src/workers.ts';
import type { SyncSettings } from '../../src/sync/settings.ts';

const WAIT = 60_000;
const SETTINGS: Partial<SyncSettings> = {
  safetyCheckMs: 5_000,
  maxMessageBytes: 64 * 1024,
  batchMessages: 2,
  minHoldMs: 500,
  retry: { retryLimit: 10, baseMs: 300, maxMs: 2_000, slowMs: 5_000 },
};

for (const mode of dbModes()) {
  describe(`IMAP synchronization [${mode}]`, () => {
    let w: SyncWorld;
    let ctx: TestContext;
    let ownerId: string;

    before(async () => {
      w = await startSyncWorld();
      ctx = await createTestContext(mode, {
        jobs: true,
        sync: SETTINGS,
        env: w.googleEnv,
        app: { mailTlsCa: w.dovecot.ca },
      });
      ownerId = (await ctx.user()).id;
    });
    after(async () => {
      await ctx?.close();
      // Expected complaints: a deliberate UIDVALIDITY change under a selected session, and (at load ~30) Dovecot giving
      // up on the in-process Google fake's tokeninfo after 10 s, which the engine then retries.
      const errors = (w?.dovecot.errors() ?? []).filter(
        (e) =>
          !/index reset, view is now inconsistent|UIDVALIDITY has changed|Token validation failed: Absolute request timeout/.test(
            e,
          ),
      );
      await w?.close();
      assert.deepEqual(errors, [], 'Dovecot logged errors');
    });

    const prisma = () => ctx.db.prisma;
    const syncRow = (mailboxId: string) => prisma().mailboxSync.findUnique({ where: { mailboxId } });
    const connected = (mailboxId: string) =>
      until(
        `mailbox ${mailboxId} connected`,
        async () => ((await syncRow(mailboxId))?.state === 'CONNECTED' ? true : undefined),
        WAIT,
      );
    const emails = (mailboxId: string) =>
      prisma().email.findMany({ where: { mailboxId }, orderBy: { receivedAt: 'asc' } });
    const arrived = (mailboxId: string, messageId: string) =>
      until(
        `${messageId} stored`,
        async () => (await emails(mailboxId)).find((e) => e.messageId === messageId) ?? undefined,
        WAIT,
      );
    async function newMailbox(o: Parameters<typeof createDovecotProfile>[3] = {}, m: { processEmailFrom?: Date } = {}) {
      const profile = await createDovecotProfile(prisma(), ctx.sealer, w, o);
      return createSyncMailbox(prisma(), ctx.sealer, w, { ownerId, profileId: profile.id, auth: o.auth, ...m });
    }

    it('delivers new mail through IDLE once, and it shows in the Emails list', async () => {
      const { mailbox, email } = await newMailbox();
      await connected(mailbox.id);
      assert.equal(await w.dovecot.connections(email), 1);
      const m = mailMessage(email, 'Hello through IDLE');
      await w.dovecot.deliver(email, m.raw);
      const stored = await arrived(mailbox.id, m.messageId);
      assert.equal(stored.subject, 'Hello through IDLE');
      assert.equal(stored.status, 'RECEIVED');
      // a second message, so the first would have been stored twice by now if it were going to be
      const m2 = mailMessage(email, 'Second');
      await w.dovecot.deliver(email, m2.raw);
      await arrived(mailbox.id, m2.messageId);
      assert.deepEqual(
        (await emails(mailbox.id)).map((e) => e.messageId),
        [m.messageId, m2.messageId],
      );
      const row = await syncRow(mailbox.id);
      assert.equal(row?.messagesSynced, 2);
      assert.ok(row?.lastMessageAt);
      const { client } = await ctx.signedIn('ADMIN');
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
      await w.dovecot.deliver(email, a.raw);
      await arrived(mailbox.id, a.messageId);

      // Stop this process's workers (graceful: sessions closed, mailboxes released), deliver, start again.
      await ctx.workers?.stop();
      await until(
        'connection closed',
        async () => ((await w.dovecot.connections(email)) === 0 ? true : undefined),
        WAIT,
      );
      const b = mailMessage(email, 'while stopped');
      await w.dovecot.deliver(email, b.raw);
      ctx.workers = await startWorkers(ctx.deps, { schedules: false, sync: SETTINGS });
      await arrived(mailbox.id, b.messageId);

      // The server drops the connection: reconnect at once, catch up by UID.
      await connected(mailbox.id);
      await w.dovecot.kick(email);
      const c = mailMessage(email, 'after the kick');
      await w.dovecot.deliver(email, c.raw);
      await arrived(mailbox.id, c.messageId);
      const d = mailMessage(email, 'last');
      await w.dovecot.deliver(email, d.raw);
      await arrived(mailbox.id, d.messageId);
      assert.deepEqual(
        (await emails(mailbox.id)).map((e) => e.messageId).sort(),
        [a, b, c, d].map((x) => x.messageId).sort(),
      );
      assert.equal((await syncRow(mailbox.id))?.messagesSynced, 4);
    });
  });
}
