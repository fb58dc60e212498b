// Browser tests of the email record and the Alerts page in Chromium: a hostile HTML email runs none of its scripts and
// loads nothing (a local "tracker" server counts every request it gets, and must get none) while its text shows; the
// plain-text view too. The Alerts page filters by level and shows a user only their own mailboxes' alerts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { signIn, startE2E, type E2E } from '../helpers/browser.ts';
import { createAlertRow, createEmailRow, createMailboxRow, createProfileRow } from '../helpers/mail-records.ts';

let ctx: TestContext;
let e2e: E2E;
let tracker: Server;
let trackerUrl: string;
const hits: string[] = [];

before(async () => {
  tracker = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'image/gif', 'access-control-allow-origin': '*' });
    res.end('GIF89a');
  });
  await new Promise<void>((r) => tracker.listen(0, '127.0.0.1', () => r()));
  trackerUrl = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}`;
  ctx = await createTestContext('pglite');
  e2e = await startE2E(ctx.url, { logs: () => ctx.logs });
});
after(async () => {
  await e2e?.close();
  await ctx?.close();
  await new Promise((r) => tracker?.close(r));
});

/** Every way an email has been seen to run code or fetch something, each aimed at the tracker or at the page. */
function hostileHtml(t: string): string {
  const mark = "top.document.title='PWNED';top.PWNED=1";
  return `<!doctype html><html><head>
<meta http-equiv="refresh" content="0;url=${t}/refresh">
<link rel="stylesheet" href="${t}/link.css"><link rel="prefetch" href="${t}/prefetch"><link rel="icon" href="${t}/icon">
<style>@import url("${t}/import.css"); body { background: url(${t}/style-bg.png) } @font-face { font-family: x; src: url(${t}/font.woff) }</style>
<script>${mark}</script><script src="${t}/script.js"></script><base href="${t}/base/">
</head><body onload="${mark}" background="${t}/body-bg.png">
<h1 style="color:#036;background-image:url('${t}/h1-bg.png')">Dear customer</h1>
<p>Your invoice <b>INV-42</b> is ready.</p>
<img src="${t}/pixel.gif" width="1" height="1" alt="">
<img src="x" onerror="${mark}" alt="broken">
<img srcset="${t}/srcset.png 1x, ${t}/srcset2.png 2x" alt="srcset">
<img src="relative-tracker.gif" alt="relative"><img src="//127.0.0.1/protocol-relative.gif" alt="pr">
<picture><source srcset="${t}/picture.webp"><img src="${t}/picture.png" alt="picture"></picture>
<table background="${t}/table-bg.png"><tr><td background="${t}/td-bg.png" style="background:url(${t}/td-style.png)">Total</td><td>42</td></tr></table>
<div style="width:expression(alert(1));behavior:url(${t}/htc)">IE</div>
<a href="javascript:${mark}">javascript link</a> <a href="${t}/click" onclick="${mark}">tracked link</a>
<form action="${t}/form" method="post"><input name="q" value="x"><input type="image" src="${t}/input.png" alt="go"><button>Submit</button></form>
<iframe src="${t}/iframe"></iframe><iframe srcdoc="<script>${mark}</script>"></iframe>
<object data="${t}/object"></object><embed src="${t}/embed"><video poster="${t}/poster.png" src="${t}/video.mp4"></video><audio src="${t}/audio.mp3" autoplay></audio>
<svg xmlns="http://www.w3.org/2000/svg" onload="${mark}"><image href="${t}/svg-image.png"/><script>${mark}</script><a href="javascript:${mark}"><text>svg</text></a></svg>
<math><mtext><img src="${t}/math.png"></mtext></math>
<details open ontoggle="${mark}"><summary>More</summary>details</details>
<marquee onstart="${mark}">marquee</marquee>
<noscript><img src="${t}/noscript.png"></noscript>
<p>Kind regards, Vendor</p>
</body></html>`;
}

test('a hostile HTML email runs no script and loads nothing remote, while its text is shown', async () => {
  const user = await ctx.user({ role: 'USER' });
  const profile = await createProfileRow(ctx.db.prisma);
  const mailbox = await createMailboxRow(ctx.db.prisma, { ownerId: user.id, profileId: profile.id, name: 'Billing' });
  const email = await createEmailRow(ctx.db.prisma, {
    mailboxId: mailbox.id,
    subject: 'Your invoice',
    text: null,
    html: hostileHtml(trackerUrl),
  });
  await e2e.session('hostile html email', async ({ page }) => {
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const popups: string[] = [];
    page.context().on('page', (p) => popups.push(p.url()));
    await signIn(page, user);
    await page.goto(`/emails/${email.id}`);
    const frame = page.frameLocator('iframe.email-html');
    await frame.getByRole('heading', { name: 'Dear customer' }).waitFor();
    await frame.getByText('Kind regards, Vendor').waitFor();
    await frame.getByRole('cell', { name: 'Total' }).waitFor();
    // Whatever the message asked for has had its chance: wait until the page has made no request for a while.
    await page.waitForLoadState('networkidle');

    assert.equal(await page.title(), 'Your invoice · Mailroom', 'no script changed the title');
    assert.equal(await page.evaluate('typeof window.PWNED'), 'undefined');
    assert.deepEqual(dialogs, [], 'no alert, confirm or prompt');
    assert.deepEqual(hits, [], 'the tracker got no request');
    assert.deepEqual(popups, []);
    // The message's links go out only to http(s), in a new tab, without opener or referrer.
    const links = frame.locator('a[href]');
    assert.equal(await links.count(), 1);
    assert.equal(await links.first().getAttribute('href'), `${trackerUrl}/click`);
    assert.equal(await links.first().getAttribute('target'), '_blank');
    assert.equal(await links.first().getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await links.first().getAttribute('onclick'), null);
    // The frame cannot run script even if something slipped through the sanitizer: no allow-scripts in its sandbox.
    const sandbox = await page.locator('iframe.email-html').getAttribute('sandbox');
    assert.ok(sandbox && !/allow-scripts|allow-forms|allow-top-navigation/.test(sandbox), sandbox ?? '');
    // The page's own script sized the frame to the message, so it does not scroll inside the page.
    await page.waitForFunction(`(() => {
      const f = document.querySelector('iframe.email-html');
      const inner = f.contentDocument.documentElement.getBoundingClientRect().height;
      return inner > 0 && Math.abs(f.getBoundingClientRect().height - inner) <= 4;
    })()`);

    await page.getByRole('link', { name: 'Show as plain text' }).click();
    await page.waitForURL(/view=text/);
    const text = page.locator('pre.email-text');
    await text.getByText('Your invoice INV-42 is ready.').waitFor();
    assert.match((await text.textContent()) ?? '', /Dear customer[\s\S]*Kind regards, Vendor/);
    await page.waitForLoadState('networkidle');
    assert.equal(await page.title(), 'Your invoice · Mailroom');
    assert.deepEqual(hits, [], 'the tracker got no request from the text view either');
  });
});

test('the Alerts page: a user sees only their mailboxes’ alerts and filters them by level', async () => {
  const user = await ctx.user({ role: 'USER' });
  const other = await ctx.user({ role: 'USER' });
  const profile = await createProfileRow(ctx.db.prisma);
  const mine = await createMailboxRow(ctx.db.prisma, { ownerId: user.id, profileId: profile.id, name: 'My inbox' });
  const theirs = await createMailboxRow(ctx.db.prisma, { ownerId: other.id, profileId: profile.id, name: 'Theirs' });
  await createAlertRow(ctx.db.prisma, { mailboxId: mine.id, level: 'ERROR', message: 'My error alert.' });
  await createAlertRow(ctx.db.prisma, {
    mailboxId: mine.id,
    level: 'WARNING',
    code: 'SERVER_TEMPORARY',
    message: 'My warning alert.',
  });
  await createAlertRow(ctx.db.prisma, { mailboxId: theirs.id, message: 'Their error alert.' });
  await createAlertRow(ctx.db.prisma, {
    profileId: profile.id,
    code: 'PROFILE_MAILBOXES_FAILING',
    message: 'Profile.',
  });
  await e2e.session('alerts page', async ({ page }) => {
    await signIn(page, user);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: /Alerts/ }).click();
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    assert.equal(await nav.getByLabel('1 errors in the last 24 hours').count(), 1, 'the nav counts my one error');
    const rows = page.locator('table.alerts-list tbody tr');
    await rows.filter({ hasText: 'My error alert.' }).waitFor();
    assert.equal(await rows.count(), 2);
    assert.equal(await page.getByText('Their error alert.').count(), 0);
    assert.equal(await page.getByText('Profile.', { exact: true }).count(), 0);

    await page.getByLabel('Level').selectOption('WARNING');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/level=WARNING/);
    assert.deepEqual(await rows.allTextContents().then((t) => t.map((s) => s.includes('My warning alert.'))), [true]);
  });
});
