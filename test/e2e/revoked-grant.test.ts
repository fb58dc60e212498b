// A revoked Gmail grant in a real browser (issue 13 item 3): the access token Mailroom holds has not expired, Google
// revoked the grant, the user selects Test & Enable Mailbox. The run reports TOKEN_REVOKED (not a vague AUTH_FAILED),
// the mailbox is no longer enabled, the Gmail panel asks to sign in again, and the list shows the badge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import {
  startGmailWorld,
  createGmailProfile,
  createConnectedMailbox,
  type GmailWorld,
} from '../helpers/gmail-world.ts';
import { startE2E, type E2E } from '../helpers/browser.ts';
import { PATIENT_PROBES, WAIT_MS } from '../helpers/wait.ts';

let w: GmailWorld;
let ctx: TestContext;
let e2e: E2E;

before(async () => {
  w = await startGmailWorld();
  ctx = await createTestContext('pglite', {
    jobs: true,
    env: w.googleEnv,
    app: { mailTlsCa: w.mail.ca, checks: { retryBaseMs: 200, pollingIntervalSeconds: 0.5, ...PATIENT_PROBES } },
  });
  e2e = await startE2E(ctx.url, { logs: () => ctx.logs });
});
after(async () => {
  await e2e?.close();
  await ctx?.close();
  await w?.close();
});

async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/');
}

test('Test & Enable on a revoked grant with an unexpired token: TOKEN_REVOKED, disabled, Sign in to Gmail again', () =>
  e2e.session('revoked grant', async ({ page }) => {
    const { prisma } = ctx.db;
    const user = await ctx.user({ role: 'USER' });
    const profile = await createGmailProfile(prisma, ctx.sealer, w);
    const mb = await createConnectedMailbox(prisma, ctx.sealer, w, { ownerId: user.id, profileId: profile.id });
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
    w.google.revokeAllFor(mb.emailAddress);
    await page.getByRole('button', { name: 'Test & Enable Mailbox' }).click();
    await page.waitForURL(`${ctx.url}/mailboxes/${mb.id}`);
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
