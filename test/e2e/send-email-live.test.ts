// A user writes an email in a real browser and watches it turn Sent without a reload: on the email record (Pending
// Send → Sent with the server's answer) and on the Emails list. The SMTP fake answers slowly, so the pending state
// is on screen first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGmailProfile, createConnectedMailbox } from '../helpers/gmail-world.ts';
import { gmailBrowserWorld, signIn, markNoReload, assertNoReload } from '../helpers/browser.ts';
import { PATIENT_PROBES, WAIT_MS } from '../helpers/wait.ts';

const s = gmailBrowserWorld({ sends: { pollingIntervalSeconds: 0.5, ...PATIENT_PROBES } });

test('write an email from the mailbox record; it turns Sent on the record and on the list without a reload', () =>
  s.e2e.session(
    'send live',
    async ({ page }) => {
      const { prisma } = s.ctx.db;
      const user = await s.ctx.user({ role: 'USER', name: 'Ada Lovelace' });
      const profile = await createGmailProfile(prisma, s.ctx.sealer, s.w);
      const mb = await createConnectedMailbox(prisma, s.ctx.sealer, s.w, { ownerId: user.id, profileId: profile.id });
      await prisma.mailbox.update({
        where: { id: mb.id },
        data: { enabledForOutgoing: true, outgoingStatus: 'SUCCESS' },
      });
      s.w.mail.smtp.setDelay(1500); // each SMTP step waits: the email is seen pending first
      try {
        await signIn(page, user);
        await page.goto(`/mailboxes/${mb.id}`);
        await page.getByRole('link', { name: 'New email' }).click();
        await page.waitForURL((u) => u.pathname === '/emails/new');
        assert.equal(await page.getByLabel('From').inputValue(), mb.id);
        // A bad address first: the form comes back with the field's error and what was typed.
        await page.locator('#f-to').fill('grace@example.org, nobody');
        await page.getByLabel('Subject').fill('Hello from the browser');
        await page.getByLabel('Message').fill('Typed in Chromium.');
        await page.getByRole('button', { name: 'Send' }).click();
        await page.getByText('"nobody" is not an email address.').waitFor();
        assert.equal(await page.getByLabel('Message').inputValue(), 'Typed in Chromium.');
        await page.locator('#f-to').fill('Grace Hopper <grace@example.org>');
        await page.getByRole('button', { name: 'Send' }).click();
        await page.waitForURL((u) => /^\/emails\/[0-9a-f-]{36}$/.test(u.pathname));
        const status = page.locator('section[aria-label="Email"] .badge').first();
        assert.match((await status.textContent()) ?? '', /Pending Send|Sending/);
        await markNoReload(page);
        await page.locator('section[aria-label="Email"] .badge', { hasText: /^Sent$/ }).waitFor({ timeout: WAIT_MS });
        await page.getByText(/250 2\.0\.0 OK/).waitFor();
        await assertNoReload(page);

        // The list: a second email, seen pending on the list, turns Sent there.
        await page.goto(`/emails/new?mailbox=${mb.id}`);
        await page.locator('#f-to').fill('bob@example.net');
        await page.getByLabel('Subject').fill('Second one');
        await page.getByRole('button', { name: 'Send' }).click();
        await page.waitForURL((u) => /^\/emails\/[0-9a-f-]{36}$/.test(u.pathname));
        await page.goto('/emails');
        const row = page.locator('tr', { hasText: 'Second one' });
        assert.match((await row.locator('.badge').textContent()) ?? '', /Pending Send|Sending/);
        await markNoReload(page);
        await row.locator('.badge', { hasText: /^Sent$/ }).waitFor({ timeout: WAIT_MS });
        await assertNoReload(page);
        assert.equal(s.w.mail.smtp.messages.filter((m) => m.from === mb.emailAddress).length, 2);
      } finally {
        s.w.mail.smtp.setDelay(0);
      }
    },
    { allowConsole: [/status of 422/] },
  ));
