// The mailbox record's Incoming Synchronization panel and the mailbox list's sync badge, from MailboxSync rows as the
// sync engine writes them: Connected (IDLE), Polling every N min, Backing off until … (retry k of n), Stopped with the
// reason and what to do, Not synchronized; last message, messages synchronized, latest emails.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';
import { createEmailRows, createMailboxRow, createProfileRow, setMailboxSync } from '../helpers/mail-records.ts';
import { linkHref, tableRows, textOf } from '../helpers/html.ts';

describeEachDb('mailbox sync status', (ctx) => {
  const prisma = () => ctx().db.prisma;
  let client: TestClient;
  let ownerId: string;
  let profileId: string;
  let pop3ProfileId: string;

  before(async () => {
    const s = await ctx().signedIn('USER');
    client = s.client;
    ownerId = s.user.id;
    profileId = (await createProfileRow(prisma())).id;
    pop3ProfileId = (
      await createProfileRow(prisma(), { serverType: 'POP3', incomingPort: 995, minPollingIntervalMinutes: 5 })
    ).id;
  });

  const panel = async (id: string) => {
    const page = await client.get(`/mailboxes/${id}`);
    assert.equal(page.status, 200);
    const start = page.text.indexOf('id="sync-heading"');
    return { html: page.text, text: textOf(page.text.slice(start, page.text.indexOf('</section>', start))) };
  };

  test('connected over IMAP IDLE: state, last message, count and the latest emails with a link to all of them', async () => {
    const m = await createMailboxRow(prisma(), { ownerId, profileId, name: 'Connected one' });
    await createEmailRows(prisma(), m.id, 12, (i) => ({ subject: `Mail ${i}` }), new Date('2026-11-30T10:00:00Z'));
    await setMailboxSync(prisma(), m.id, {
      state: 'CONNECTED',
      lastMessageAt: new Date('2026-11-30T10:00:00Z'),
      messagesSynced: 1234,
    });
    const { html, text } = await panel(m.id);
    assert.match(text, /State Connected \(IDLE\)/);
    assert.match(text, /Last message received 2026-11-30 10:00:00 UTC/);
    assert.match(text, /Messages synchronized 1,234/);
    const latest = tableRows(html, 'id="sync-heading"').map((r) => r[4]);
    assert.deepEqual(
      latest,
      Array.from({ length: 10 }, (_, i) => `Mail ${i}`),
      'the ten newest',
    );
    assert.equal(linkHref(html, 'All emails of this mailbox'), `/emails?mailbox=${m.id}`);
    const all = await client.get(`/emails?mailbox=${m.id}`);
    assert.match(all.text, /1–12 of 12/);
  });

  test('POP3 polls at the profile’s interval; first synchronization in progress is said', async () => {
    const m = await createMailboxRow(prisma(), { ownerId, profileId: pop3ProfileId });
    await setMailboxSync(prisma(), m.id, { state: 'POLLING', syncFrom: new Date('2026-11-01T00:00:00Z') });
    const { text } = await panel(m.id);
    assert.match(text, /State Polling every 5 min/);
    assert.match(text, /First synchronization In progress: older mail back to 2026-11-01 00:00 UTC/);
    assert.match(text, /Messages synchronized 0/);
    assert.match(text, /Last message received —/);
  });

  test('backing off: until when, retry k of n, the error and its hint; the list shows "Sync retrying"', async () => {
    const m = await createMailboxRow(prisma(), { ownerId, profileId, name: 'Backing off one' });
    const next = new Date(Date.now() + 90_000);
    await setMailboxSync(prisma(), m.id, {
      state: 'BACKING_OFF',
      retryCount: 3,
      nextAttemptAt: next,
      lastErrorCode: 'SERVER_TEMPORARY',
      lastErrorMessage: 'Gmail is temporarily unavailable',
      lastErrorHint: 'Nothing to do: Mailroom retries.',
    });
    const { text } = await panel(m.id);
    const clock = next.toISOString().slice(11, 19);
    assert.ok(text.includes(`Backing off until`) && text.includes(`${clock} UTC (retry 3 of 10)`), text);
    assert.match(text, /SERVER_TEMPORARY: Gmail is temporarily unavailable/);
    assert.match(text, /What to do: Nothing to do: Mailroom retries\./);
    const list = await client.get('/mailboxes?q=Backing');
    assert.match(list.text, /badge-pending" title="[^"]*">Sync retrying</);
  });

  test('stopped by a permanent failure: the reason and what to do on the record, "Sync stopped" in the list', async () => {
    const m = await createMailboxRow(prisma(), {
      ownerId,
      profileId,
      name: 'Stopped one',
      enabledForIncoming: false,
      incomingStatus: 'FAILURE',
    });
    await setMailboxSync(prisma(), m.id, {
      state: 'STOPPED',
      stoppedReason: 'TOKEN_REVOKED: Google refused the refresh token',
      lastErrorCode: 'TOKEN_REVOKED',
      lastErrorHint: 'Select Sign in to Gmail again, then Test & Enable Mailbox.',
    });
    const { text } = await panel(m.id);
    assert.match(text, /State Stopped TOKEN_REVOKED: Google refused the refresh token/);
    assert.match(text, /What to do: Select Sign in to Gmail again, then Test & Enable Mailbox\./);
    const list = await client.get('/mailboxes?q=Stopped');
    assert.match(list.text, /badge-failure" title="TOKEN_REVOKED: Google refused the refresh token">Sync stopped</);
    // Once Test & Enable succeeds again, the old stop is no longer flagged in the list.
    await prisma().mailbox.update({
      where: { id: m.id },
      data: { incomingStatus: 'SUCCESS', enabledForIncoming: true },
    });
    assert.doesNotMatch((await client.get('/mailboxes?q=Stopped')).text, /Sync stopped/);
  });

  test('not enabled for incoming, or not Server-Side Synchronization: Not synchronized, and why', async () => {
    const off = await createMailboxRow(prisma(), { ownerId, profileId, enabledForIncoming: false });
    assert.match((await panel(off.id)).text, /State Not synchronized The mailbox is not enabled for incoming email\./);
    const none = await createMailboxRow(prisma(), { ownerId, profileId, incomingEmail: 'NONE' });
    assert.match((await panel(none.id)).text, /Not synchronized Incoming Email is not Server-Side Synchronization\./);
    const fresh = await createMailboxRow(prisma(), { ownerId, profileId });
    assert.match((await panel(fresh.id)).text, /State Not started yet/);
    assert.match((await panel(fresh.id)).text, /No emails yet\./);
  });
});
