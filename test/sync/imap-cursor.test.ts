// The IMAP cursor against a real Dovecot, on both engines: a UIDVALIDITY change synchronizes again without
// duplicates; the first synchronization goes back to Process Email From in batches and no further; a credentials
// profile signs in with the mailbox's password.
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
  describe(`IMAP synchronization cursor [${mode}]`, () => {
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

    it('a UIDVALIDITY change synchronizes again without duplicates', async () => {
      const { mailbox, email } = await newMailbox();
      await connected(mailbox.id);
      const a = mailMessage(email, 'before the renumbering');
      await w.dovecot.deliver(email, a.raw);
      await arrived(mailbox.id, a.messageId);
      const before = (await syncRow(mailbox.id))?.uidValidity;
      await w.dovecot.changeUidValidity(email);
      const after = await w.dovecot.uidValidity(email);
      await until(
        'new UIDVALIDITY stored',
        async () => ((await syncRow(mailbox.id))?.uidValidity === BigInt(after) ? true : undefined),
        WAIT,
      );
      assert.notEqual(before, BigInt(after));
      const b = mailMessage(email, 'after the renumbering');
      await w.dovecot.deliver(email, b.raw);
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
      await w.dovecot.deliver(email, old.raw, { internalDate: new Date(Date.now() - 5 * day) });
      const inRange = [];
      for (let i = 0; i < 5; i++) {
        const m = mailMessage(email, `in range ${i}`);
        await w.dovecot.deliver(email, m.raw, { internalDate: new Date(Date.now() - day + i * 60_000) });
        inRange.push(m);
      }
      await prisma().mailbox.update({ where: { id: mailbox.id }, data: { enabledForIncoming: true } });
      await until(
        'first synchronization done',
        async () => ((await syncRow(mailbox.id))?.firstSyncDoneAt ? true : undefined),
        WAIT,
      );
      const fresh = mailMessage(email, 'new while synchronizing');
      await w.dovecot.deliver(email, fresh.raw);
      await arrived(mailbox.id, fresh.messageId);
      const ids = (await emails(mailbox.id)).map((e) => e.messageId);
      assert.deepEqual(ids.slice().sort(), [...inRange, fresh].map((m) => m.messageId).sort());
      assert.ok(!ids.includes(old.messageId));
    });
    it('a credentials profile signs in with the mailbox user name and password', async () => {
      const { mailbox, email } = await newMailbox({ auth: 'CREDENTIALS_PER_MAILBOX' });
      await connected(mailbox.id);
      const m = mailMessage(email, 'password login');
      await w.dovecot.deliver(email, m.raw);
      await arrived(mailbox.id, m.messageId);
    });
  });
}
