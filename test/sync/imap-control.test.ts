// IMAP synchronization under control against a real Dovecot and the Google fake, on both engines: a temporary
// failure is retried and never disables; disabling or disconnecting closes the connection and enabling starts it;
// a waiter on the profile's connection budget gets the IDLE session's slot.
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
import { connectionClaims } from '../../src/sync/connections.ts';

const WAIT = 60_000;
const SETTINGS: Partial<SyncSettings> = {
  safetyCheckMs: 5_000,
  maxMessageBytes: 64 * 1024,
  batchMessages: 2,
  minHoldMs: 500,
  retry: { retryLimit: 10, baseMs: 300, maxMs: 2_000, slowMs: 5_000 },
};

for (const mode of dbModes()) {
  describe(`IMAP synchronization control [${mode}]`, () => {
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

    it('a temporary failure is retried with backoff and never disables the mailbox', async () => {
      const { mailbox, email, accessToken } = await newMailbox();
      await connected(mailbox.id);
      assert.ok(accessToken && w.google.expireAccessToken(accessToken));
      w.google.failTokenEndpoint(2, 503);
      await w.dovecot.kick(email);
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
      await w.dovecot.deliver(email, c.raw);
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
        await until(`${e} disconnected`, async () => ((await w.dovecot.connections(e)) === 0 ? true : undefined), WAIT);
      await prisma().mailbox.update({ where: { id: one.mailbox.id }, data: { enabledForIncoming: true } });
      await connected(one.mailbox.id);
      const m = mailMessage(one.email, 'enabled again');
      await w.dovecot.deliver(one.email, m.raw);
      await arrived(one.mailbox.id, m.messageId);
    });
    it('gives its connection slot to a waiting connection when asked, then reconnects and catches up by UID', async () => {
      const { mailbox, email } = await newMailbox({ maxConcurrentConnections: 1 });
      await connected(mailbox.id);
      const sem = ctx.workers!.cluster.semaphore;
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
        async () => ((await w.dovecot.connections(email)) === 0 ? true : undefined),
        WAIT,
      );
      const m = mailMessage(email, 'delivered while the slot was lent');
      await w.dovecot.deliver(email, m.raw);
      await permit.release();
      await arrived(mailbox.id, m.messageId);
      await connected(mailbox.id);
      assert.equal((await emails(mailbox.id)).length, 1);
    });
  });
}
