// The synchronization migration on both engines: applies on a database that already has data, keeps it, adds the
// change notifications (mailbox, grant, profile), stores 32-bit unsigned UIDs, and serves substring search by trigrams.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrate, readMigrations } from '../../src/db/migrate.ts';
import { createNotifier } from '../../src/cluster/notify.ts';
import { createEmptyDb, dbModes } from '../helpers/db.ts';
import { until } from '../helpers/until.ts';

for (const mode of dbModes()) {
  describe(`sync migration [${mode}]`, () => {
    test('applies on a database with data, keeps it, and notifies on mailbox, grant and profile changes', async () => {
      const t = await createEmptyDb(mode);
      const notifier = createNotifier(t.db);
      try {
        const all = readMigrations();
        const sync = all.findIndex((m) => m.name.endsWith('_sync'));
        assert.ok(sync > 0);
        await migrate(t.db, all.slice(0, sync));
        const p = t.db.prisma;
        const user = await p.user.create({ data: { email: 'ada@example.com', name: 'Ada', passwordHash: 'x' } });
        // Raw inserts: the generated client already knows columns the old schema lacks.
        const [profile] = await t.db.raw.query<{ id: string }>(
          `INSERT INTO "EmailServerProfile" (id, name, "incomingServer", "incomingPort", "outgoingServer", "outgoingPort", "updatedAt")
          VALUES ('p1', 'Gmail', 'imap.gmail.com', 993, 'smtp.gmail.com', 587, now()) RETURNING id`,
        );
        await t.db.raw.query(
          `INSERT INTO "Mailbox" (id, name, "emailAddress", "ownerId", "profileId", "enabledForIncoming", "emailApproval", "updatedAt")
          VALUES ('mb1', 'Support', 'support@gmail.test', $1, $2, true, 'APPROVED', now())`,
          [user.id, profile.id],
        );
        await t.db.raw.query(`INSERT INTO "GmailGrant" (id, "mailboxId", "googleEmail", "grantedScopes", "accessToken", "accessTokenExpiresAt")
          VALUES ('g1', 'mb1', 'support@gmail.test', 'https://mail.google.com/', 'sealed', now())`);

        assert.deepEqual(
          await migrate(t.db),
          all.slice(sync).map((m) => m.name),
        );
        const mb = await p.mailbox.findUniqueOrThrow({ where: { id: 'mb1' }, include: { grant: true } });
        assert.deepEqual(
          [mb.emailAddress, mb.enabledForIncoming, mb.processEmailFrom, mb.grant?.googleEmail],
          ['support@gmail.test', true, null, 'support@gmail.test'],
        );
        assert.deepEqual(
          [
            await p.email.count(),
            await p.mailboxSync.count(),
            await p.workerProcess.count(),
            await p.connectionSlot.count(),
          ],
          [0, 0, 0, 0],
        );

        const heard: string[] = [];
        await notifier.listen('mailroom_sync', (payload) => heard.push(payload));
        await p.mailbox.update({ where: { id: 'mb1' }, data: { enabledForIncoming: false } });
        await p.mailbox.update({ where: { id: 'mb1' }, data: { name: 'Renamed' } }); // not a sync setting: no notification
        await p.gmailGrant.delete({ where: { mailboxId: 'mb1' } });
        await p.emailServerProfile.update({ where: { id: profile.id }, data: { maxConcurrentConnections: 2 } });
        await until('three notifications', () => (heard.length >= 3 ? heard : undefined), 10_000);
        assert.deepEqual(heard, ['mailbox:mb1', 'mailbox:mb1', `profile:${profile.id}`]);
      } finally {
        await notifier.close();
        await t.drop();
      }
    });

    test('UIDs up to 2^32−1 round-trip; subject and sender search can use the trigram indexes', async () => {
      const t = await createEmptyDb(mode);
      try {
        await migrate(t.db);
        const p = t.db.prisma;
        const user = await p.user.create({ data: { email: 'ada@example.com', name: 'Ada', passwordHash: 'x' } });
        const mb = await p.mailbox.create({
          data: { name: 'Support', emailAddress: 'support@gmail.test', ownerId: user.id },
        });
        const max = 4294967295n;
        await p.email.create({
          data: {
            mailboxId: mb.id,
            direction: 'INCOMING',
            status: 'RECEIVED',
            messageId: '<a@b>',
            subject: 'Quarterly figures',
            fromAddress: 'ada@example.com',
            imapUidValidity: max,
            imapUid: max,
          },
        });
        const e = await p.email.findFirstOrThrow();
        assert.deepEqual([e.imapUidValidity, e.imapUid], [max, max]);
        const plan = await t.db.withConnection(async (c) => {
          await c.exec('SET enable_seqscan = off');
          const rows = await c.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN SELECT id FROM "Email" WHERE "subjectLower" LIKE lower('%FIGURES%')`,
          );
          await c.exec('RESET enable_seqscan');
          return rows.map((r) => r['QUERY PLAN']).join('\n');
        });
        assert.match(plan, /Email_subjectLower_idx/);
        assert.equal(
          (await p.email.findMany({ where: { subject: { contains: 'FIGURES', mode: 'insensitive' } } })).length,
          1,
        );
      } finally {
        await t.drop();
      }
    });
  });
}
