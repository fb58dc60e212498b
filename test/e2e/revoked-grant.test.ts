// A revoked Gmail grant in a real browser (issue 13 item 3): the access token Mailroom holds has not expired, Google
// revoked the grant, the user selects Test & Enable Mailbox. The run reports TOKEN_REVOKED (not a vague AUTH_FAILED),
// the mailbox is no longer enabled, the Gmail panel asks to sign in again, and the list shows the badge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGmailProfile, createConnectedMailbox } from '../helpers/gmail-world.ts';
import { gmailBrowserWorld, signIn } from '../helpers/browser.ts';
import { PATIENT_PROBES, WAIT_MS } from '../helpers/wait.ts';

const s = gmailBrowserWorld({ checks: { retryBaseMs: 200, pollingIntervalSeconds: 0.5, ...PATIENT_PROBES } });

test('Test & Enable on a revoked grant with an unexpired token: TOKEN_REVOKED, disabled, Sign in to Gmail again', () =>
  s.e2e.session('revoked grant', async ({ page }) => {
    const { prisma } = s.ctx.db;
    const user = await s.ctx.user({ role: 'USER' });
    const profile = await createGmailProfile(prisma, s.ctx.sealer, s.w);
    const mb = await createConnectedMailbox(prisma, s.ctx.sealer, s.w, { ownerId: user.id, profileId: profile.id });
    await prisma.mailbox.update({
      where: { id: mb.id },
      data: {
        incomingStatus: 'SUCCESS',
        outgoingStatus: 'SUCCESS',
        enabledForIncoming: true,
        enabledForOutgoing: true,
      },
    });
    await signIn(page, user);
    await page.goto(`/mailboxes/${mb.id}`);
    const gmail = page.getByRole('region', { name: 'Gmail' });
    await gmail.getByText('Yes (refresh token stored)').waitFor();

    // The user removes Mailroom at myaccount.google.com/permissions: the grant and its tokens are revoked.
    s.w.google.revokeAllFor(mb.emailAddress);
    await page.getByRole('button', { name: 'Test & Enable Mailbox' }).click();
    await page.waitForURL(`${s.ctx.url}/mailboxes/${mb.id}`);
    const panel = page.locator('section[data-refresh]');
    await panel
      .locator('[data-field="incomingStatus"].badge-failure', { hasText: 'Failure' })
      .waitFor({ timeout: WAIT_MS });
    await panel.locator('[data-field="enabled"]', { hasText: /^No$/ }).waitFor({ timeout: WAIT_MS });
    await panel.getByText('TOKEN_REVOKED').first().waitFor();
    assert.equal(await panel.getByText('AUTH_FAILED').count(), 0, 'the vague code is not the answer');

    await page.reload();
    await gmail.getByText('Sign-in needed.').waitFor();
    assert.equal(await gmail.getByText('Yes (refresh token stored)').count(), 0, 'no promise that it renews');
    await gmail.getByText('No: Google refused the stored refresh token').waitFor();
    const again = gmail.getByRole('link', { name: 'Sign in to Gmail again' });
    assert.equal(await again.getAttribute('href'), `/mailboxes/${mb.id}/gmail/signin`);

    await page.goto('/mailboxes');
    const row = page.locator(`tr[data-mailbox-id="${mb.id}"]`);
    await row.getByText('Sign in again').waitFor();
    assert.equal((await row.locator('[data-field="enabled"]').textContent())?.trim(), 'No');
  }));
