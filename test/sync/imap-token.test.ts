// Token refresh while an IMAP session is connected, against a real Dovecot and the Google fake, on both engines: the
// access token is refreshed ahead of its expiry without dropping the connection, and a grant revoked meanwhile is
// noticed at that refresh (Dovecot, like Gmail, keeps an authenticated session open) and stops the mailbox.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dbModes } from '../helpers/db.ts';
import { until } from '../helpers/until.ts';
import { SYNC_WAIT as WAIT, syncSuite } from '../helpers/sync-world.ts';

const AHEAD_MS = 5 * 60_000; // the engine's default: refresh 5 min before expiry

for (const mode of dbModes()) {
  describe(`IMAP token refresh while connected [${mode}]`, () => {
    const s = syncSuite(mode, { retry: { retryLimit: 10, baseMs: 300, maxMs: 2_000, slowMs: 5_000 } });
    const { prisma, newMailbox } = s;

    /** A connected mailbox whose stored access token expires a few seconds after the refresh-ahead point. */
    async function connectedSoonExpiring() {
      const mb = await newMailbox({}, { enabled: false });
      await prisma().gmailGrant.update({
        where: { mailboxId: mb.mailbox.id },
        data: { accessTokenExpiresAt: new Date(Date.now() + AHEAD_MS + 4_000) },
      });
      await prisma().mailbox.update({ where: { id: mb.mailbox.id }, data: { enabledForIncoming: true } });
      await until(
        'connected',
        async () =>
          (await prisma().mailboxSync.findUnique({ where: { mailboxId: mb.mailbox.id } }))?.state === 'CONNECTED'
            ? true
            : undefined,
        WAIT,
      );
      return mb;
    }

    it('refreshes the access token ahead of expiry without dropping the connection', async () => {
      const { mailbox, email } = await connectedSoonExpiring();
      const before = s.w.google.stats().refreshes;
      const grant = await until(
        'token refreshed',
        async () => {
          const g = await prisma().gmailGrant.findUnique({ where: { mailboxId: mailbox.id } });
          return g?.refreshedAt ? g : undefined;
        },
        WAIT,
      );
      assert.ok(s.w.google.stats().refreshes > before);
      assert.ok(grant.accessTokenExpiresAt.getTime() > Date.now() + 30 * 60_000);
      assert.equal(await s.w.dovecot.connections(email), 1);
      const row = await prisma().mailboxSync.findUnique({ where: { mailboxId: mailbox.id } });
      assert.equal(row?.state, 'CONNECTED');
      assert.equal(row?.retryCount, 0);
      assert.equal(await prisma().alert.count({ where: { mailboxId: mailbox.id } }), 0);
    });

    it('a grant revoked while connected is noticed at the next refresh and stops the mailbox', async () => {
      const { mailbox, email } = await connectedSoonExpiring();
      s.w.google.revokeAllFor(email);
      const m = await until(
        'disabled',
        async () => {
          const x = await prisma().mailbox.findUnique({ where: { id: mailbox.id }, include: { grant: true } });
          return x?.enabledForIncoming === false ? x : undefined;
        },
        WAIT,
      );
      assert.equal(m.grant?.signInRequiredCode, 'TOKEN_REVOKED');
      // The provider disables the mailbox as soon as Google refuses (its own transaction); the session's applyFailure
      // writes STOPPED and Failure together a moment later. Wait for that.
      const row = await until(
        'stopped, and Incoming Email Status Failure',
        async () => {
          const r = await prisma().mailboxSync.findUnique({ where: { mailboxId: mailbox.id } });
          const mb = await prisma().mailbox.findUnique({ where: { id: mailbox.id } });
          return r?.state === 'STOPPED' && r.stoppedReason && mb?.incomingStatus === 'FAILURE' ? r : undefined;
        },
        WAIT,
      );
      assert.match(row.stoppedReason ?? '', /^TOKEN_REVOKED/);
      await until(
        'connection closed',
        async () => ((await s.w.dovecot.connections(email)) === 0 ? true : undefined),
        WAIT,
      );
    });
  });
}
