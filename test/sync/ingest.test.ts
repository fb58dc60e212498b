// Ingest on both engines with real message fixtures: fields as parsed, each message stored once whatever repeats it
// (re-fetch, UIDVALIDITY change, two overlapping batches at once), failures recorded and reported once, the cursor
// moved forward in the same transaction, and nothing written by a process that no longer owns the mailbox.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { registerProcess, type ProcessRegistration } from '../../src/cluster/registry.ts';
import { claimMailboxes } from '../../src/cluster/ownership-sql.ts';
import { ensureSyncRows } from '../../src/cluster/ownership-sql.ts';
import { ingest, LeaseLostError, UidValidityMismatchError, type FetchedMessage } from '../../src/sync/ingest.ts';
import { readCursor, resetCursor } from '../../src/sync/cursor.ts';
import { headerBlock } from '../../src/sync/message-id.ts';
import { createTestDb, dbModes, type TestDb } from '../helpers/db.ts';
import { createEnabledMailboxes } from '../helpers/sync-fixtures.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/mail');
const fixture = (name: string) => readFileSync(`${FIXTURES}/${name}.eml`);
const NAMES = ['multipart-alternative', 'html-only', 'attachments', 'no-message-id', 'non-utf8', 'malformed-headers'];
const UV = 1700000001n;
const imap = (raw: Buffer, uid: number, uidValidity = UV): FetchedMessage => ({
  raw,
  imap: { uidValidity, uid: BigInt(uid) },
  internalDate: new Date('2026-12-05T10:00:00Z'),
});

for (const mode of dbModes()) {
  describe(`ingest [${mode}]`, () => {
    let t: TestDb;
    let reg: ProcessRegistration;
    before(async () => {
      t = await createTestDb(mode);
      reg = await registerProcess(t.db, { role: 'worker', timing: { heartbeatMs: 60_000, deadAfterMs: 180_000 } });
    });
    after(async () => {
      await reg.stop();
      await t.drop();
    });

    /** A new mailbox owned by this test's process, with its cursor at `uidValidity`. */
    async function ownedMailbox(): Promise<string> {
      const { ids } = await createEnabledMailboxes(t.db.prisma, 1);
      await ensureSyncRows(t.db.raw);
      const claimed = await claimMailboxes(t.db.raw, reg.id, 1000, 180);
      assert.ok(claimed.some((c) => c.id === ids[0]));
      return ids[0];
    }

    test('stores each fixture with its fields, once; a second fetch of the same messages adds nothing', async () => {
      const mailboxId = await ownedMailbox();
      const batch = NAMES.map((n, i) => imap(fixture(n), i + 1));
      const first = await ingest(t.db, {
        mailboxId,
        ownerId: reg.id,
        messages: batch,
        cursor: { uidValidity: UV, lastUid: 6n },
      });
      assert.equal(first.stored.length, 6);
      assert.deepEqual([first.failed.length, first.duplicates], [0, 0]);
      const again = await ingest(t.db, {
        mailboxId,
        ownerId: reg.id,
        messages: batch,
        cursor: { uidValidity: UV, lastUid: 6n },
      });
      assert.deepEqual([again.stored.length, again.failed.length, again.duplicates], [0, 0, 6]);
      assert.equal(await t.db.prisma.email.count({ where: { mailboxId } }), 6);
      const cursor = await readCursor(t.db, mailboxId);
      assert.deepEqual([cursor?.uidValidity, cursor?.lastUid, cursor?.messagesSynced], [UV, 6n, 6]);

      const get = (messageId: string) =>
        t.db.prisma.email.findUniqueOrThrow({ where: { mailboxId_messageId: { mailboxId, messageId } } });
      const alt = await get('<CAF=q1x7@mail.example.com>');
      assert.deepEqual(
        [alt.direction, alt.status, alt.fromAddress, alt.fromName, alt.subject],
        ['INCOMING', 'RECEIVED', 'ada@example.com', 'Ada Lovelace', 'Quarterly figures'],
      );
      assert.deepEqual(alt.to, [
        { address: 'support@gmail.test', name: 'Support' },
        { address: 'grace@example.com', name: 'Grace Hopper' },
      ]);
      assert.deepEqual(alt.cc, [{ address: 'charles@example.com', name: '' }]);
      assert.equal(alt.inReplyTo, '<prev-2@mail.example.com>');
      assert.deepEqual(alt.references, ['<root-1@mail.example.com>', '<prev-2@mail.example.com>']);
      assert.match(alt.text!, /revenue is up 12 %/);
      assert.match(alt.html!, /<div dir="ltr">/);
      assert.deepEqual(
        [alt.sentAt?.toISOString(), alt.receivedAt?.toISOString(), alt.occurredAt.toISOString()],
        ['2026-11-30T16:15:00.000Z', '2026-12-05T10:00:00.000Z', '2026-12-05T10:00:00.000Z'],
      );
      assert.deepEqual([alt.imapUidValidity, alt.imapUid, alt.size], [UV, 1n, fixture('multipart-alternative').length]);

      const html = await get('<news-20261201@shop.example>');
      assert.equal(html.text, null);
      assert.match(html.html!, /<script>alert\('x'\)<\/script>/, "stored raw; sanitizing is the display's job");
      assert.equal(html.subject, '🎉 Sale starts now');

      const att = await get('<inv-77@example.com>');
      assert.deepEqual(att.attachments, [
        { name: 'logo.png', type: 'image/png', size: 508, inline: true },
        { name: 'Rechnung März.pdf', type: 'application/pdf', size: 10249, inline: false },
        { name: 'unnamed', type: 'application/octet-stream', size: 10, inline: false },
      ]);
      const whole = JSON.stringify(att, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
      assert.ok(!whole.includes('JVBERi0xLjQ') && !whole.includes('%PDF'), 'no attachment content is stored');

      const latin = await get('<latin1-1@example.fr>');
      assert.deepEqual([latin.fromName, latin.subject], ['René Descartes', 'Café crème']);
      assert.match(latin.text!, /Le café est prêt\. À bientôt !/);
      assert.match(latin.text!, /Привет, мир/);
      assert.match(latin.text!, /こんにちは/);

      const bad = await get('<no-brackets-here@example.com>');
      assert.deepEqual([bad.status, bad.subject, bad.sentAt], ['RECEIVED', 'Broken but readable', null]);
      assert.match(bad.text!, /The body survives/);

      const noId = await t.db.prisma.email.findFirstOrThrow({
        where: { mailboxId, subject: 'Nightly backup finished' },
      });
      assert.equal(noId.messageIdSynthetic, true);
      assert.match(noId.messageId, /^<[0-9a-f]{40}@no-id\.mailroom\.invalid>$/);
    });

    test('after a UIDVALIDITY change the same messages under new UIDs are recognized (Message-ID, synthetic too)', async () => {
      const mailboxId = await ownedMailbox();
      const raws = NAMES.map(fixture);
      await ingest(t.db, {
        mailboxId,
        ownerId: reg.id,
        messages: raws.map((r, i) => imap(r, i + 1)),
        cursor: { uidValidity: UV, lastUid: 6n },
      });
      await assert.rejects(
        ingest(t.db, { mailboxId, ownerId: reg.id, messages: [], cursor: { uidValidity: UV + 1n, lastUid: 1n } }),
        UidValidityMismatchError,
      );
      await resetCursor(t.db, { mailboxId, ownerId: reg.id, uidValidity: UV + 1n, syncFrom: new Date('2026-01-01Z') });
      const redo = await ingest(t.db, {
        mailboxId,
        ownerId: reg.id,
        messages: raws.map((r, i) => imap(r, 100 + i, UV + 1n)),
        cursor: { uidValidity: UV + 1n, lastUid: 105n },
      });
      assert.deepEqual([redo.stored.length, redo.duplicates], [0, 6]);
      assert.equal(await t.db.prisma.email.count({ where: { mailboxId } }), 6);
      const cursor = await readCursor(t.db, mailboxId);
      assert.deepEqual([cursor?.uidValidity, cursor?.lastUid, cursor?.messagesSynced], [UV + 1n, 105n, 6]);
    });

    test('two overlapping batches at once store each message once', async () => {
      const mailboxId = await ownedMailbox();
      const make = (n: number) =>
        Buffer.from(
          `From: a@example.com\r\nTo: b@example.com\r\nSubject: m${n}\r\nMessage-ID: <race-${n}@example.com>\r\n\r\nbody ${n}\r\n`,
        );
      const a = Array.from({ length: 30 }, (_, i) => imap(make(i), i + 1));
      const b = Array.from({ length: 30 }, (_, i) => imap(make(i + 15), i + 16));
      const [ra, rb] = await Promise.all([
        ingest(t.db, { mailboxId, ownerId: reg.id, messages: a, cursor: { uidValidity: UV, lastUid: 30n } }),
        ingest(t.db, { mailboxId, ownerId: reg.id, messages: b, cursor: { uidValidity: UV, lastUid: 45n } }),
      ]);
      assert.equal(ra.stored.length + rb.stored.length, 45);
      assert.equal(ra.duplicates + rb.duplicates, 15);
      assert.equal(await t.db.prisma.email.count({ where: { mailboxId } }), 45);
      const cursor = await readCursor(t.db, mailboxId);
      assert.deepEqual([cursor?.lastUid, cursor?.messagesSynced], [45n, 45]);
    });

    test('a process that lost the mailbox stores nothing', async () => {
      const mailboxId = await ownedMailbox();
      const other = await registerProcess(t.db, {
        role: 'worker',
        timing: { heartbeatMs: 60_000, deadAfterMs: 180_000 },
      });
      try {
        await t.db.prisma.mailboxSync.update({ where: { mailboxId }, data: { ownerId: other.id } });
        await assert.rejects(
          ingest(t.db, { mailboxId, ownerId: reg.id, messages: [imap(fixture('html-only'), 1)] }),
          LeaseLostError,
        );
        assert.equal(await t.db.prisma.email.count({ where: { mailboxId } }), 0);
      } finally {
        await other.stop();
      }
    });

    test('a claim by another process that commits while the batch waits for the row: nothing stored', {
      skip: mode !== 'postgres' && 'two connections at once: PostgreSQL only',
    }, async () => {
      const mailboxId = await ownedMailbox();
      const other = await registerProcess(t.db, {
        role: 'worker',
        timing: { heartbeatMs: 60_000, deadAfterMs: 180_000 },
      });
      try {
        // The other process takes the mailbox in a transaction that is still open when the batch arrives: the batch
        // read the row as ours, waits for the lock, and must then see the new owner and write nothing.
        await t.db.withConnection(async (claim) => {
          await claim.exec('BEGIN');
          await claim.query(`UPDATE "MailboxSync" SET "ownerId" = $1 WHERE "mailboxId" = $2`, [other.id, mailboxId]);
          const batch = ingest(t.db, {
            mailboxId,
            ownerId: reg.id,
            messages: [imap(fixture('html-only'), 1)],
            cursor: { uidValidity: UV, lastUid: 1n },
          });
          const settled = batch.then(
            () => 'stored',
            (e: unknown) => e,
          );
          await new Promise((r) => setTimeout(r, 300));
          await claim.exec('COMMIT');
          assert.ok((await settled) instanceof LeaseLostError, String(await settled));
        });
        assert.equal(await t.db.prisma.email.count({ where: { mailboxId } }), 0);
        const [sync] = await t.db.raw.query<{ lastUid: string | null; messagesSynced: number }>(
          `SELECT "lastUid"::text AS "lastUid", "messagesSynced" FROM "MailboxSync" WHERE "mailboxId" = $1`,
          [mailboxId],
        );
        assert.deepEqual([sync.lastUid, sync.messagesSynced], [null, 0]);
      } finally {
        await other.stop();
      }
    });

    test('too large, unparseable and hostile messages are recorded as failed, reported once, and block nothing', async () => {
      const mailboxId = await ownedMailbox();
      const big = Buffer.concat([
        Buffer.from(
          'From: Big Sender <big@example.com>\r\nSubject: Scanned archive\r\nMessage-ID: <big-1@example.com>\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n',
        ),
        Buffer.alloc(60 * 1024 * 1024, 0x41),
      ]);
      const bomb = Buffer.from(
        `From: x@example.com\r\nSubject: nested\r\nMessage-ID: <bomb@example.com>\r\n${Array.from({ length: 100 }, (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`).join('')}text\r\n`,
      );
      const garbage = Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x0d, 0x0a, 0x00]);
      const nul = Buffer.from(
        'From: n@example.com\r\nSubject: a\u0000b\r\nMessage-ID: <nul@example.com>\r\n\r\nbody\u0000with nul\r\n',
      );
      const messages = [
        imap(big, 1),
        { ...imap(headerBlock(big), 2), size: big.length }, // what a fetch of the headers only would give (another copy)
        imap(bomb, 3),
        imap(garbage, 4),
        imap(nul, 5),
        imap(fixture('html-only'), 6),
      ];
      const r = await ingest(t.db, { mailboxId, ownerId: reg.id, messages, cursor: { uidValidity: UV, lastUid: 6n } });
      assert.deepEqual(r.stored.map((s) => s.imapUid).sort(), [5n, 6n]);
      assert.deepEqual(
        r.failed.map((f) => [f.imapUid, f.code]),
        [
          [1n, 'MESSAGE_TOO_LARGE'],
          [3n, 'UNPARSEABLE'],
          [4n, 'UNPARSEABLE'],
        ],
      );
      assert.equal(r.duplicates, 1, 'the headers-only copy has the same Message-ID');
      const bigRow = await t.db.prisma.email.findUniqueOrThrow({
        where: { mailboxId_messageId: { mailboxId, messageId: '<big-1@example.com>' } },
      });
      assert.deepEqual(
        [bigRow.status, bigRow.subject, bigRow.fromAddress, bigRow.size, bigRow.text, bigRow.errorCode],
        ['FAILED', 'Scanned archive', 'big@example.com', big.length, null, 'MESSAGE_TOO_LARGE'],
      );
      assert.match(bigRow.errorMessage!, /60\.0 MB, over the 52\.0 MB limit/);
      assert.equal(r.failed[0].subject, 'Scanned archive');
      const nulRow = await t.db.prisma.email.findUniqueOrThrow({
        where: { mailboxId_messageId: { mailboxId, messageId: '<nul@example.com>' } },
      });
      assert.deepEqual([nulRow.subject, nulRow.text], ['ab', 'bodywith nul\n']);
      const again = await ingest(t.db, {
        mailboxId,
        ownerId: reg.id,
        messages,
        cursor: { uidValidity: UV, lastUid: 6n },
      });
      assert.deepEqual([again.stored.length, again.failed.length, again.duplicates], [0, 0, 6]);
      const cursor = await readCursor(t.db, mailboxId);
      assert.deepEqual([cursor?.lastUid, cursor?.messagesSynced], [6n, 2]);
    });

    test('POP3: UIDL decides what is new; the first synchronization cursor only moves forward', async () => {
      const mailboxId = await ownedMailbox();
      const pop = (name: string, uidl: string): FetchedMessage => ({ raw: fixture(name), pop3Uidl: uidl });
      const r1 = await ingest(t.db, {
        mailboxId,
        ownerId: reg.id,
        messages: [pop('html-only', 'GmailId1'), pop('attachments', 'GmailId2')],
      });
      const r2 = await ingest(t.db, {
        mailboxId,
        ownerId: reg.id,
        messages: [pop('html-only', 'GmailId1'), pop('non-utf8', 'GmailId3')],
      });
      assert.deepEqual([r1.stored.length, r2.stored.length, r2.duplicates], [2, 1, 1]);
      const imapBox = await ownedMailbox();
      await resetCursor(t.db, {
        mailboxId: imapBox,
        ownerId: reg.id,
        uidValidity: UV,
        syncFrom: new Date('2026-06-01Z'),
      });
      await ingest(t.db, {
        mailboxId: imapBox,
        ownerId: reg.id,
        messages: [],
        cursor: { uidValidity: UV, lastUid: 500n, backfillBelowUid: 400n },
      });
      await ingest(t.db, {
        mailboxId: imapBox,
        ownerId: reg.id,
        messages: [],
        cursor: { uidValidity: UV, lastUid: 450n, backfillBelowUid: 450n },
      });
      let c = await readCursor(t.db, imapBox);
      assert.deepEqual(
        [c?.lastUid, c?.backfillBelowUid, c?.firstSyncDoneAt, c?.syncFrom?.toISOString()],
        [500n, 400n, null, '2026-06-01T00:00:00.000Z'],
      );
      await ingest(t.db, {
        mailboxId: imapBox,
        ownerId: reg.id,
        messages: [],
        cursor: { uidValidity: UV, backfillBelowUid: 1n, firstSyncDone: true },
      });
      c = await readCursor(t.db, imapBox);
      assert.deepEqual([c?.lastUid, c?.backfillBelowUid], [500n, 1n]);
      assert.ok(c?.firstSyncDoneAt instanceof Date);
    });
  });
}
