// The Emails area through HTTP on both engines: who sees which email (list and record, 404 for another user's), search,
// filters, sort and keyset paging, and the record's headers, bodies (text, sanitized HTML in a sandboxed frame, HTML
// read as text) and attachments. Email rows come from the factories, as the sync engine would write them.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachDb } from '../helpers/context.ts';
import type { TestClient } from '../helpers/client.ts';
import { createEmailRow, createEmailRows, createMailboxRow, createProfileRow } from '../helpers/mail-records.ts';
import { decode, linkHref, tableRows, textOf } from '../helpers/html.ts';

const ZERO_ID = '00000000-0000-4000-8000-000000000000';
const T0 = new Date('2026-11-20T12:00:00Z');

describeEachDb('emails', (ctx) => {
  const prisma = () => ctx().db.prisma;
  let ada: TestClient;
  let bob: TestClient;
  let admin: TestClient;
  const ids: Record<string, string> = {};

  before(async () => {
    const a = await ctx().signedIn('USER');
    const b = await ctx().signedIn('USER');
    ada = a.client;
    bob = b.client;
    admin = (await ctx().signedIn('ADMIN')).client;
    const profile = await createProfileRow(prisma());
    const sales = await createMailboxRow(prisma(), { ownerId: a.user.id, profileId: profile.id, name: 'Ada Sales' });
    const support = await createMailboxRow(prisma(), {
      ownerId: a.user.id,
      profileId: profile.id,
      name: 'Ada Support',
    });
    const bobs = await createMailboxRow(prisma(), { ownerId: b.user.id, profileId: profile.id, name: 'Bob Inbox' });
    Object.assign(ids, { sales: sales.id, support: support.id, bobs: bobs.id });
    // 120 in Sales, a minute apart from T0 back; every 10th from a "Billing" sender; equal times in pairs from 100 on.
    await createEmailRows(
      prisma(),
      sales.id,
      120,
      (i) => ({
        subject: `Order ${String(i).padStart(3, '0')}`,
        ...(i % 10 === 0 ? { fromAddress: 'billing@vendor.example', fromName: 'Vendor Billing' } : {}),
        ...(i >= 100 ? { occurredAt: new Date(T0.getTime() - 100 * 60_000 - Math.floor((i - 100) / 2) * 60_000) } : {}),
      }),
      T0,
    );
    const out = await createEmailRow(prisma(), {
      mailboxId: support.id,
      direction: 'OUTGOING',
      status: 'SENT',
      subject: 'Re: 100% discount_code',
      fromAddress: support.emailAddress,
      occurredAt: new Date('2026-10-05T09:00:00Z'),
    });
    const secret = await createEmailRow(prisma(), { mailboxId: bobs.id, subject: 'Secret of Bob', occurredAt: T0 });
    Object.assign(ids, { out: out.id, secret: secret.id });
  });

  const subjects = (html: string) => tableRows(html, 'class="grid emails"').map((r) => r[5]);

  test('a user sees only the emails of their mailboxes; another user’s email is a 404 like a missing one', async () => {
    const list = await ada.get('/emails');
    assert.equal(list.status, 200);
    assert.match(list.text, /1–50 of 121/);
    assert.doesNotMatch(list.text, /Secret of Bob/);
    const search = await ada.get('/emails?q=Secret');
    assert.match(search.text, /No emails match\./);
    const filtered = await ada.get(`/emails?mailbox=${ids.bobs}`);
    assert.match(filtered.text, /No emails match\./, "filtering by another user's mailbox shows nothing");
    assert.doesNotMatch(filtered.text, /Bob Inbox/);

    const theirs = await ada.get(`/emails/${ids.secret}`);
    const missing = await ada.get(`/emails/${ZERO_ID}`);
    const malformed = await ada.get('/emails/not-an-id');
    assert.deepEqual([theirs.status, missing.status, malformed.status], [404, 404, 404]);
    assert.equal(textOf(theirs.text), textOf(missing.text), 'indistinguishable from a missing email');
    assert.doesNotMatch(theirs.text, /Secret of Bob/);

    assert.equal((await bob.get(`/emails/${ids.secret}`)).status, 200);
    assert.deepEqual(subjects((await bob.get('/emails')).text), ['Secret of Bob']);
  });

  test('an admin sees every email, of every user', async () => {
    const list = await admin.get('/emails');
    assert.match(list.text, /1–50 of 122/);
    // Newest first: Bob's email and Order 000 share T0 (their order is the id tiebreak's).
    assert.deepEqual(subjects(list.text).slice(0, 2).sort(), ['Order 000', 'Secret of Bob']);
    assert.equal((await admin.get(`/emails/${ids.secret}`)).status, 200);
    assert.equal((await admin.get(`/emails?q=Secret`)).text.includes('Secret of Bob'), true);
  });

  test('search by subject or sender, case-insensitive, with % and _ taken literally', async () => {
    const billing = await ada.get('/emails?q=BILLING');
    assert.deepEqual(
      subjects(billing.text),
      Array.from({ length: 12 }, (_, i) => `Order ${String(i * 10).padStart(3, '0')}`),
    );
    assert.deepEqual(subjects((await ada.get('/emails?q=vendor%20billing')).text).length, 12, 'by sender name');
    assert.deepEqual(subjects((await ada.get('/emails?q=100%25')).text), ['Re: 100% discount_code']);
    assert.deepEqual(subjects((await ada.get('/emails?q=t_c')).text), ['Re: 100% discount_code']);
    assert.match((await ada.get('/emails?q=r_0')).text, /No emails match/, '_ is not a wildcard ("Order 000")');
    assert.match((await ada.get('/emails?q=r%250')).text, /No emails match/, '% is not a wildcard');
    assert.match((await ada.get('/emails?q=%5C')).text, /No emails match/, 'a backslash is only a backslash');
  });

  test('filters: mailbox, direction, status and dates (whole UTC days), kept in the form and the links', async () => {
    const support = await ada.get(`/emails?mailbox=${ids.support}`);
    assert.deepEqual(subjects(support.text), ['Re: 100% discount_code']);
    assert.match(support.text, /Showing emails of the mailbox <strong>Ada Support<\/strong>/);
    assert.match(support.text, new RegExp(`<option value="${ids.support}" selected>Ada Support</option>`));
    assert.deepEqual(subjects((await ada.get('/emails?direction=OUTGOING')).text), ['Re: 100% discount_code']);
    assert.deepEqual(subjects((await ada.get('/emails?status=SENT')).text), ['Re: 100% discount_code']);
    assert.match((await ada.get('/emails?direction=OUTGOING&status=RECEIVED')).text, /No emails match/);
    assert.deepEqual(subjects((await ada.get('/emails?since=2026-10-05&until=2026-10-05')).text), [
      'Re: 100% discount_code',
    ]);
    assert.match((await ada.get('/emails?since=2026-10-06&until=2026-11-19')).text, /No emails match/);
    const day = await ada.get('/emails?since=2026-11-20&direction=INCOMING');
    assert.match(day.text, /1–50 of 120/);
    // Sorting keeps the filters; a bad filter value is ignored rather than failing.
    const sortLink = linkHref(day.text, 'Subject');
    assert.equal(sortLink, '?direction=INCOMING&since=2026-11-20&sort=subject&dir=asc');
    assert.equal((await ada.get('/emails?since=yesterday&direction=SIDEWAYS')).status, 200);
  });

  test('sort by subject, then page with Next and Previous: every email once, none skipped', async () => {
    const seen: string[] = [];
    let page = await ada.get('/emails?direction=INCOMING&sort=subject&dir=desc');
    const first = subjects(page.text);
    for (;;) {
      seen.push(...subjects(page.text));
      const next = linkHref(page.text, 'Next');
      if (!next) break;
      assert.match(next, /after=/);
      page = await ada.get(`/emails${next}`);
    }
    assert.equal(seen.length, 120);
    assert.deepEqual(
      seen,
      Array.from({ length: 120 }, (_, i) => `Order ${String(119 - i).padStart(3, '0')}`),
    );
    assert.match(page.text, /101–120 of 120/);
    const back = await ada.get(`/emails${linkHref(page.text, 'Previous')}`);
    assert.match(back.text, /51–100 of 120/);
    const start = await ada.get(`/emails${linkHref(back.text, 'Previous')}`);
    assert.deepEqual(subjects(start.text), first);
  });

  test('paging by date walks equal times in id order without repeats', async () => {
    const seen: string[] = [];
    let next: string | null = '';
    while (next !== null) {
      const page = await ada.get(`/emails?mailbox=${ids.sales}${next ? `&${next.slice(1)}` : ''}`);
      seen.push(...subjects(page.text));
      next = linkHref(page.text, 'Next');
      if (next) next = next.replace(`mailbox=${ids.sales}&`, '?').replace(/^\?\?/, '?');
    }
    assert.equal(new Set(seen).size, 120);
  });

  test('the record: headers, plain-text body, attachments by name, type and size; FAILED rows say why', async () => {
    const e = await createEmailRow(prisma(), {
      mailboxId: ids.sales,
      subject: 'Quarterly <report>',
      fromAddress: 'cfo@vendor.example',
      fromName: 'Chief Financial',
      to: [
        { address: 'sales@gmail.test', name: 'Sales' },
        { address: 'x@example.com', name: '' },
      ],
      cc: [{ address: 'cc@example.com', name: 'Copy' }],
      messageId: '<q3@vendor.example>',
      inReplyTo: '<q2@vendor.example>',
      references: ['<q1@vendor.example>', '<q2@vendor.example>'],
      sentAt: new Date('2026-11-19T08:30:05Z'),
      receivedAt: new Date('2026-11-19T08:30:09Z'),
      text: 'Line one\n<b>not bold</b>\nLine three',
      html: '<p>Line one</p>',
      attachments: [
        { name: 'report.pdf', type: 'application/pdf', size: 245_760, inline: false },
        { name: 'logo.png', type: 'image/png', size: 900, inline: true },
      ],
    });
    const page = await ada.get(`/emails/${e.id}`);
    assert.equal(page.status, 200);
    const text = textOf(page.text);
    for (const want of [
      'From Chief Financial <cfo@vendor.example>',
      'To Sales <sales@gmail.test>, x@example.com',
      'Cc Copy <cc@example.com>',
      'Date 2026-11-19 08:30:05 UTC',
      'Received 2026-11-19 08:30:09 UTC',
      'Subject Quarterly <report>',
      'Message-ID <q3@vendor.example>',
      'In-Reply-To <q2@vendor.example>',
      'References <q1@vendor.example> <q2@vendor.example>',
      'report.pdf application/pdf 240 KB',
      'logo.png inline image/png 900 bytes',
    ])
      assert.ok(text.includes(want), `record shows "${want}"`);
    assert.match(page.text, /<pre class="email-text">Line one\n&lt;b&gt;not bold&lt;\/b&gt;\nLine three<\/pre>/);
    assert.equal(linkHref(page.text, 'Show formatted (HTML)'), '?view=html');
    assert.doesNotMatch(page.text, /<iframe/, 'text is the default when the message has it');

    const failed = await createEmailRow(prisma(), {
      mailboxId: ids.sales,
      status: 'FAILED',
      subject: 'Huge',
      text: null,
      errorCode: 'MESSAGE_TOO_LARGE',
      errorMessage: 'The message is 80 MB, over the 52 MB limit.',
    });
    const f = await ada.get(`/emails/${failed.id}`);
    assert.ok(textOf(f.text).includes('MESSAGE_TOO_LARGE The message is 80 MB, over the 52 MB limit.'));
    assert.match(f.text, /This message has no text\./);
    assert.match(f.text, /badge-failure">Failed</);
  });

  test('an HTML-only message: sanitized into a sandboxed frame with its own CSP, or read as plain text', async () => {
    const hostile = [
      '<html><head><title>T</title><meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/r">',
      '<link rel="stylesheet" href="http://127.0.0.1:9/s.css"><style>body{background:url(http://127.0.0.1:9/bg)}</style>',
      '<script>document.title="pwned"</script></head><body onload="alert(1)">',
      '<p style="color:#c00;background-image:url(http://127.0.0.1:9/p.png)">Dear customer &amp; friend,</p>',
      '<img src="http://127.0.0.1:9/track.gif" onerror="alert(2)" alt="tracker">',
      '<img srcset="http://127.0.0.1:9/a.png 2x"><img src="/logout">',
      '<a href="javascript:alert(3)">bad link</a> <a href="https://example.com/offer">good link</a>',
      '<form action="http://127.0.0.1:9/f"><input name="p"><button>Send</button></form>',
      '<iframe src="http://127.0.0.1:9/frame"></iframe><svg><script>alert(4)</script></svg>',
      '<table background="http://127.0.0.1:9/t.png"><tr><td>Total</td><td>42</td></tr></table></body></html>',
    ].join('');
    const e = await createEmailRow(prisma(), { mailboxId: ids.sales, subject: 'Offer', text: null, html: hostile });
    const page = await ada.get(`/emails/${e.id}`);
    const srcdoc = decode(/srcdoc="([^"]*)"/.exec(page.text)?.[1] ?? '');
    assert.match(page.text, /<iframe[^>]* sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"/);
    assert.doesNotMatch(/<iframe[^>]*>/.exec(page.text)?.[0] ?? '', /allow-scripts|allow-forms|allow-top-navigation/);
    assert.match(srcdoc, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:;/);
    const body = srcdoc.slice(srcdoc.indexOf('<body>'));
    assert.match(body, /Dear customer &amp; friend,/);
    assert.match(
      body,
      /<a href="https:\/\/example.com\/offer" target="_blank" rel="noopener noreferrer">good link<\/a>/,
    );
    assert.match(body, /<td>Total<\/td><td>42<\/td>/);
    for (const banned of [
      '127.0.0.1',
      '<script',
      'onerror',
      'onload',
      'javascript:',
      '<form',
      '<input',
      '<iframe',
      'srcset',
      'url(',
      '/logout',
      '<meta',
      '<link',
      '<svg',
    ])
      assert.ok(!body.includes(banned), `no ${banned} in the frame's body`);
    assert.equal(linkHref(page.text, 'Show as plain text'), '?view=text');

    const asText = await ada.get(`/emails/${e.id}?view=text`);
    const pre = decode(/<pre class="email-text">([\s\S]*?)<\/pre>/.exec(asText.text)?.[1] ?? '');
    assert.match(pre, /Dear customer & friend,/);
    assert.match(pre, /good link <https:\/\/example.com\/offer>/);
    assert.doesNotMatch(pre, /pwned|alert|<p|127\.0\.0\.1/);
    assert.match(asText.text, /no plain-text part/);
  });
});
