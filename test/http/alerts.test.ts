// The Alerts page through HTTP on both engines: an admin sees every alert (mailboxes' and profiles'), a user only those
// of their own mailboxes; filters by level, profile, mailbox and date; keyset paging; the profile record's own alerts;
// the navigation's count of recent errors.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';
import { createAlertRow, createMailboxRow, createProfileRow } from '../helpers/mail-records.ts';
import { linkHref, tableRows, textOf } from '../helpers/html.ts';

describeEachDb('alerts', (ctx) => {
  const prisma = () => ctx().db.prisma;
  let ada: TestClient;
  let admin: TestClient;
  const ids: Record<string, string> = {};

  before(async () => {
    const a = await ctx().signedIn('USER');
    const b = await ctx().signedIn('USER');
    ada = a.client;
    admin = (await ctx().signedIn('ADMIN')).client;
    const gmail = await createProfileRow(prisma(), { name: 'Gmail West' });
    const other = await createProfileRow(prisma(), { name: 'Other Profile' });
    const adas = await createMailboxRow(prisma(), { ownerId: a.user.id, profileId: gmail.id, name: 'Ada Inbox' });
    const bobs = await createMailboxRow(prisma(), { ownerId: b.user.id, profileId: other.id, name: 'Bob Inbox' });
    Object.assign(ids, { gmail: gmail.id, other: other.id, adas: adas.id, bobs: bobs.id });
    const at = (iso: string) => new Date(iso);
    await createAlertRow(prisma(), {
      mailboxId: adas.id,
      message: 'Ada error.',
      createdAt: at('2026-11-30T10:00:00Z'),
    });
    await createAlertRow(prisma(), {
      mailboxId: adas.id,
      level: 'WARNING',
      code: 'SERVER_TEMPORARY',
      message: 'Ada warning.',
      hint: 'Mailroom retries.',
      createdAt: at('2026-11-29T10:00:00Z'),
    });
    await createAlertRow(prisma(), {
      mailboxId: adas.id,
      level: 'INFO',
      code: 'SYNC_RESUMED',
      message: 'Ada info.',
      createdAt: at('2026-10-01T10:00:00Z'),
    });
    await createAlertRow(prisma(), {
      mailboxId: bobs.id,
      message: 'Bob error.',
      createdAt: at('2026-11-30T11:00:00Z'),
    });
    await createAlertRow(prisma(), {
      profileId: gmail.id,
      code: 'PROFILE_MAILBOXES_FAILING',
      message: '3 of 4 mailboxes of this profile failed to synchronize in the last hour.',
      hint: 'Check the profile.',
      createdAt: at('2026-11-30T12:00:00Z'),
    });
  });

  const messages = (html: string) => tableRows(html, 'class="grid alerts-list"').map((r) => r[5]);

  test('an admin sees every alert, newest first, with level, profile, mailbox, code, message and hint', async () => {
    const page = await admin.get('/alerts');
    assert.equal(page.status, 200);
    const rows = tableRows(page.text, 'class="grid alerts-list"');
    assert.deepEqual(
      rows.map((r) => r.slice(0, 5)),
      [
        ['2026-11-30 12:00:00 UTC', 'Error', 'Gmail West', '—', 'PROFILE_MAILBOXES_FAILING'],
        ['2026-11-30 11:00:00 UTC', 'Error', 'Other Profile', 'Bob Inbox', 'TOKEN_REVOKED'],
        ['2026-11-30 10:00:00 UTC', 'Error', 'Gmail West', 'Ada Inbox', 'TOKEN_REVOKED'],
        ['2026-11-29 10:00:00 UTC', 'Warning', 'Gmail West', 'Ada Inbox', 'SERVER_TEMPORARY'],
        ['2026-10-01 10:00:00 UTC', 'Information', 'Gmail West', 'Ada Inbox', 'SYNC_RESUMED'],
      ],
    );
    assert.equal(rows[3][5], 'Ada warning. What to do: Mailroom retries.');
    assert.equal(linkHref(page.text, 'Gmail West'), `/profiles/${ids.gmail}`);
    assert.equal(linkHref(page.text, 'Bob Inbox'), `/mailboxes/${ids.bobs}`);
  });

  test('a user sees only the alerts of their own mailboxes, never a profile’s or another user’s', async () => {
    const page = await ada.get('/alerts');
    assert.deepEqual(messages(page.text), ['Ada error.', 'Ada warning. What to do: Mailroom retries.', 'Ada info.']);
    assert.equal(linkHref(page.text, 'Gmail West'), null, 'profile pages are for admins: no link');
    assert.doesNotMatch(page.text, /f-profile/, 'no profile filter for a user');
    // Filtering by another user's mailbox or a profile shows nothing of theirs.
    assert.match((await ada.get(`/alerts?mailbox=${ids.bobs}`)).text, /No alerts match\./);
    assert.deepEqual(messages((await ada.get(`/alerts?profile=${ids.gmail}`)).text).length, 3);
  });

  test('filters: level, profile (its own alerts and its mailboxes’), mailbox, and whole UTC days', async () => {
    assert.deepEqual(messages((await admin.get('/alerts?level=WARNING')).text), [
      'Ada warning. What to do: Mailroom retries.',
    ]);
    assert.deepEqual(messages((await admin.get(`/alerts?profile=${ids.gmail}&level=ERROR`)).text), [
      '3 of 4 mailboxes of this profile failed to synchronize in the last hour. What to do: Check the profile.',
      'Ada error.',
    ]);
    assert.deepEqual(messages((await admin.get(`/alerts?profile=${ids.other}`)).text), ['Bob error.']);
    assert.deepEqual(messages((await admin.get(`/alerts?mailbox=${ids.bobs}`)).text), ['Bob error.']);
    assert.deepEqual(messages((await admin.get('/alerts?since=2026-11-29&until=2026-11-29')).text), [
      'Ada warning. What to do: Mailroom retries.',
    ]);
    assert.equal(messages((await admin.get('/alerts?until=2026-11-28')).text).length, 1);
    const bad = await admin.get('/alerts?level=LOUD&since=soon&profile=x');
    assert.equal(bad.status, 200);
    assert.equal(messages(bad.text).length, 5, 'values that are not filters are ignored');
    const form = await admin.get(`/alerts?level=ERROR&profile=${ids.gmail}`);
    assert.match(form.text, /<option value="ERROR" selected>Error<\/option>/);
    assert.match(form.text, new RegExp(`<option value="${ids.gmail}" selected>Gmail West</option>`));
  });

  test('keyset paging over many alerts: Next and Previous, none repeated or skipped', async () => {
    const m = await createMailboxRow(prisma(), { ownerId: (await ctx().user()).id, name: 'Noisy' });
    const base = new Date('2026-09-01T00:00:00Z').getTime();
    await prisma().alert.createMany({
      data: Array.from({ length: 130 }, (_, i) => ({
        mailboxId: m.id,
        level: 'WARNING' as const,
        code: 'SERVER_TEMPORARY',
        message: `Noise ${i}`,
        // pairs share a time: the id decides their order
        createdAt: new Date(base + Math.floor(i / 2) * 1000),
      })),
    });
    const seen: string[] = [];
    let page = await admin.get(`/alerts?mailbox=${m.id}`);
    assert.match(page.text, /1–50 of 130/);
    for (;;) {
      seen.push(...messages(page.text));
      const next = linkHref(page.text, 'Next');
      if (!next) break;
      page = await admin.get(`/alerts${next}`);
    }
    assert.equal(new Set(seen).size, 130);
    assert.equal(seen.length, 130);
    const prev = await admin.get(`/alerts${linkHref(page.text, 'Previous')}`);
    assert.match(prev.text, /51–100 of 130/);
  });

  test('the profile record shows its own alerts and links to all of the profile’s', async () => {
    const page = await admin.get(`/profiles/${ids.gmail}`);
    assert.equal(page.status, 200);
    const start = page.text.indexOf('id="profile-alerts-heading"');
    const text = textOf(page.text.slice(start, page.text.indexOf('</section>', start)));
    assert.match(text, /Error PROFILE_MAILBOXES_FAILING 3 of 4 mailboxes of this profile failed/);
    assert.doesNotMatch(text, /Ada error/, 'a mailbox’s alert is on the mailbox, not the profile record');
    assert.equal(linkHref(page.text, 'All alerts of this profile and its mailboxes'), `/alerts?profile=${ids.gmail}`);
    const quiet = await admin.get(`/profiles/${ids.other}`);
    assert.match(quiet.text, /This profile has no alerts\./);
  });

  test('the navigation counts errors of the last 24 hours the user may see', async () => {
    // The count is kept 30 s per user: make the alerts before the user's first page.
    const user = await ctx().user();
    const mine = await createMailboxRow(prisma(), { ownerId: user.id });
    await createAlertRow(prisma(), { mailboxId: mine.id });
    await createAlertRow(prisma(), { mailboxId: mine.id });
    await createAlertRow(prisma(), { mailboxId: mine.id, level: 'WARNING' });
    await createAlertRow(prisma(), { mailboxId: mine.id, createdAt: new Date(Date.now() - 25 * 3600_000) });
    await createAlertRow(prisma(), { mailboxId: ids.bobs });
    const client = ctx().client();
    await client.login(user.email, user.password);
    const home = await client.get('/');
    assert.match(
      home.text,
      /<a href="\/alerts" >Alerts <span class="nav-count" aria-label="2 errors in the last 24 hours"/,
    );
    assert.match(home.text, /<a href="\/emails" >Emails<\/a>/);
  });
});
