// What a session writes when it fails (applyFailure), on both engines: the sync row's state, the mailbox's status and
// enabled flag, the grant's "sign in again" and the alert are written together or not at all, and only by the process
// that owns the mailbox.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../src/logger.ts';
import { failure } from '../../src/mail/hints.ts';
import { decideFailure } from '../../src/sync/health.ts';
import { applyFailure, type StatusDeps } from '../../src/sync/status.ts';
import { createTestDb, dbModes, type TestDb } from '../helpers/db.ts';
import { createEnabledMailboxes } from '../helpers/sync-fixtures.ts';

const NOW = new Date();
const revoked = { ...failure('TOKEN_REVOKED'), message: 'invalid_grant: Token has been expired or revoked.' };
const stop = () => {
  const d = decideFailure({
    auth: 'xoauth2',
    retryCount: 0,
    refreshedAfterAuthFailure: true,
    now: NOW,
    failure: revoked,
  });
  assert.equal(d.action, 'stop');
  assert.ok(d.action === 'stop' && d.badge === 'SIGN_IN_AGAIN' && d.alert);
  return d as Exclude<typeof d, { action: 'refresh-token' }>;
};

for (const mode of dbModes()) {
  describe(`applyFailure [${mode}]`, () => {
    let t: TestDb;
    let d: StatusDeps;
    before(async () => {
      t = await createTestDb(mode);
      const ownerId = randomUUID();
      await t.db.prisma.workerProcess.create({ data: { id: ownerId, host: 'test', pid: process.pid, role: 'worker' } });
      d = { db: t.db, ownerId, logger: createLogger('silent') };
    });
    after(() => t.drop());

    /** A mailbox enabled for incoming mail, its sync row owned by `owner`, with a Gmail grant. */
    async function owned(owner: string) {
      const prisma = t.db.prisma;
      const { ids, profileId } = await createEnabledMailboxes(prisma, 1);
      const mailboxId = ids[0] as string;
      await prisma.mailbox.update({ where: { id: mailboxId }, data: { incomingStatus: 'SUCCESS' } });
      await prisma.mailboxSync.create({ data: { mailboxId, ownerId: owner, state: 'CONNECTED' } });
      await prisma.gmailGrant.create({
        data: {
          mailboxId,
          googleEmail: 'owner@gmail.test',
          grantedScopes: 'https://mail.google.com/',
          accessToken: 'sealed-access',
          accessTokenExpiresAt: new Date(Date.now() + 3600_000),
          refreshToken: 'sealed-refresh',
        },
      });
      return { mailboxId, profileId };
    }
    async function read(mailboxId: string) {
      const prisma = t.db.prisma;
      const [sync, mailbox, grant, alerts] = await Promise.all([
        prisma.mailboxSync.findUniqueOrThrow({ where: { mailboxId } }),
        prisma.mailbox.findUniqueOrThrow({ where: { id: mailboxId } }),
        prisma.gmailGrant.findUniqueOrThrow({ where: { mailboxId } }),
        prisma.alert.count({ where: { mailboxId } }),
      ]);
      return {
        state: sync.state,
        lastErrorCode: sync.lastErrorCode,
        incomingStatus: mailbox.incomingStatus,
        enabledForIncoming: mailbox.enabledForIncoming,
        signInRequiredCode: grant.signInRequiredCode,
        alerts,
      };
    }
    const untouched = {
      state: 'CONNECTED',
      lastErrorCode: null,
      incomingStatus: 'SUCCESS',
      enabledForIncoming: true,
      signInRequiredCode: null,
      alerts: 0,
    };

    it('a revoked grant stops the session, fails and disables the mailbox, asks for sign-in and alerts', async () => {
      const { mailboxId, profileId } = await owned(d.ownerId);
      assert.equal(await applyFailure(d, mailboxId, profileId, revoked, stop()), true);
      assert.deepEqual(await read(mailboxId), {
        state: 'STOPPED',
        lastErrorCode: 'TOKEN_REVOKED',
        incomingStatus: 'FAILURE',
        enabledForIncoming: false,
        signInRequiredCode: 'TOKEN_REVOKED',
        alerts: 1,
      });
    });

    it('a process that no longer owns the mailbox writes nothing', async () => {
      const other = randomUUID();
      await t.db.prisma.workerProcess.create({ data: { id: other, host: 'test', pid: 1, role: 'worker' } });
      const { mailboxId, profileId } = await owned(other);
      assert.equal(await applyFailure(d, mailboxId, profileId, revoked, stop()), false);
      assert.deepEqual(await read(mailboxId), untouched);
    });

    it('when a write fails halfway, none of them is kept (the mailbox does not say Enabled over a stopped session)', async () => {
      const { mailboxId, profileId } = await owned(d.ownerId);
      // The alert is the last write: make the database refuse it, for this mailbox only.
      await t.db.prisma.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION test_refuse_alert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW."mailboxId" = '${mailboxId}' THEN RAISE EXCEPTION 'alert refused by the test'; END IF; RETURN NEW; END $$`);
      await t.db.prisma.$executeRawUnsafe(
        `CREATE TRIGGER test_refuse_alert BEFORE INSERT ON "Alert" FOR EACH ROW EXECUTE FUNCTION test_refuse_alert()`,
      );
      try {
        await assert.rejects(applyFailure(d, mailboxId, profileId, revoked, stop()), /alert refused by the test/);
        assert.deepEqual(await read(mailboxId), untouched);
      } finally {
        await t.db.prisma.$executeRawUnsafe(`DROP TRIGGER test_refuse_alert ON "Alert"`);
      }
    });
  });
}
