// IMAP synchronization health against a real Dovecot and the Google fake, on both engines: mail that cannot be
// processed goes to Undeliverable (or stays) with an alert; a revoked grant stops the mailbox (Failure, disabled,
// alert, Sign in again, badge).
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
  describe(`IMAP synchronization health [${mode}]`, () => {
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

    it('moves a message that cannot be processed to Undeliverable when the profile says so, and names it in an alert', async () => {
      const big = `${'x'.repeat(76)}\r\n`;
      const { mailbox, email } = await newMailbox({ moveFailedToUndeliverable: true });
      await connected(mailbox.id);
      const m = mailMessage(email, 'Too large to process', { body: big.repeat(1200) });
      await w.dovecot.deliver(email, m.raw);
      const row = await arrived(mailbox.id, m.messageId);
      assert.equal(row.status, 'FAILED');
      assert.equal(row.errorCode, 'MESSAGE_TOO_LARGE');
      assert.equal(row.subject, 'Too large to process');
      await until(
        'moved to Undeliverable',
        async () =>
          (await w.dovecot.listFolder(email, 'Undeliverable')).some((x) => x.messageId === m.messageId)
            ? true
            : undefined,
        WAIT,
      );
      assert.ok(!(await w.dovecot.listFolder(email)).some((x) => x.messageId === m.messageId));
      const alert = await until('alert', () =>
        prisma()
          .alert.findFirst({ where: { mailboxId: mailbox.id, code: 'MESSAGE_NOT_PROCESSED' } })
          .then((a) => a ?? undefined),
      );
      assert.match(alert.message, /Too large to process.*moved to the Undeliverable folder/);

      // Without the setting the message stays where it is; the alert says so.
      const other = await newMailbox();
      await connected(other.mailbox.id);
      const n = mailMessage(other.email, 'Also too large', { body: big.repeat(1200) });
      await w.dovecot.deliver(other.email, n.raw);
      await arrived(other.mailbox.id, n.messageId);
      const left = await until('alert', () =>
        prisma()
          .alert.findFirst({ where: { mailboxId: other.mailbox.id, code: 'MESSAGE_NOT_PROCESSED' } })
          .then((a) => a ?? undefined),
      );
      assert.match(left.message, /left where it is/);
      assert.ok((await w.dovecot.listFolder(other.email)).some((x) => x.messageId === n.messageId));
    });
    it('a grant revoked mid-sync stops the mailbox: Failure, disabled, alert, Sign in again', async () => {
      const { mailbox, email } = await newMailbox();
      await connected(mailbox.id);
      w.google.revokeAllFor(email);
      await w.dovecot.kick(email); // Gmail drops the connection of a revoked grant
      await until(
        'stopped',
        async () => {
          const m = await prisma().mailbox.findUnique({ where: { id: mailbox.id } });
          return m?.enabledForIncoming === false ? m : undefined;
        },
        WAIT,
      );
      const m = await prisma().mailbox.findUniqueOrThrow({ where: { id: mailbox.id }, include: { grant: true } });
      assert.equal(m.incomingStatus, 'FAILURE');
      assert.equal(m.grant?.signInRequiredCode, 'TOKEN_REVOKED');
      assert.ok(m.grant?.signInRequiredAt);
      const row = await until(
        'released as STOPPED',
        async () => {
          const r = await syncRow(mailbox.id);
          return r?.state === 'STOPPED' && r.ownerId === null ? r : undefined;
        },
        WAIT,
      );
      assert.match(row.stoppedReason ?? '', /^TOKEN_REVOKED/);
      const alert = await prisma().alert.findFirst({ where: { mailboxId: mailbox.id, level: 'ERROR' } });
      assert.equal(alert?.code, 'TOKEN_REVOKED');
      await until(
        'no connection left',
        async () => ((await w.dovecot.connections(email)) === 0 ? true : undefined),
        WAIT,
      );
      const { client } = await ctx.signedIn('ADMIN');
      const list = await client.get(`/mailboxes?q=${encodeURIComponent(email)}`);
      assert.match(list.text, /Sync stopped/);
      assert.match(list.text, /Sign in again/);
      const record = await client.get(`/mailboxes/${mailbox.id}`);
      assert.match(record.text, /Stopped/);
    });
  });
}
