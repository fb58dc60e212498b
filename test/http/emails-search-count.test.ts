// The Emails list's count through HTTP on both engines: a text search counts to 250 ("1–50 of 250+"), the list without
// a search to 1,000 (decision 045: a search's count tests every email it reads, so it stops sooner).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';
import { createEmailRows, createMailboxRow, createProfileRow } from '../helpers/mail-records.ts';

describeEachDb('emails search count', (ctx) => {
  let admin: TestClient;

  before(async () => {
    const prisma = ctx().db.prisma;
    const { client, user } = await ctx().signedIn('ADMIN');
    admin = client;
    const profile = await createProfileRow(prisma);
    const mailbox = await createMailboxRow(prisma, { ownerId: user.id, profileId: profile.id, name: 'Counted' });
    // 300 invoices and 20 others, newest first.
    await createEmailRows(prisma, mailbox.id, 320, (i) => ({ subject: i < 300 ? `Invoice ${i}` : `Lunch ${i}` }));
  });

  const summary = (html: string) => /<span class="count">([^<]*)<\/span>/.exec(html)?.[1];

  test('a search that matches more than 250 emails says "250+"; one that matches fewer counts them', async () => {
    const many = await admin.get('/emails?q=invoice');
    assert.equal(many.status, 200);
    assert.equal(summary(many.text), '1–50 of 250+');
    assert.match(many.text, /Page 1</);
    assert.equal(summary((await admin.get('/emails?q=lunch')).text), '1–20 of 20');
  });

  test('the list without a search still counts to 1,000', async () => {
    const all = await admin.get('/emails');
    assert.equal(summary(all.text), '1–50 of 320');
    assert.match(all.text, /Page 1 of 7/);
  });
});
