// Browser tests of the whole Gmail story: first-run setup, profile and mailbox by the admin, Sign in to Gmail and Test & Enable by the user.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { createTestContext, TEST_PASSWORD, type TestContext } from '../helpers/context.ts';
import {
  startGmailWorld,
  createGmailProfile,
  createConnectedMailbox,
  type GmailWorld,
} from '../helpers/gmail-world.ts';
import { startE2E, tabTo, focusedId, autofocusedId, type E2E } from '../helpers/browser.ts';
import { PATIENT_PROBES, WAIT_MS } from '../helpers/wait.ts';
import { issueSetupToken } from '../../src/auth/setup.ts';

let w: GmailWorld;
let ctx: TestContext;
let e2e: E2E;

const ADMIN = { name: 'Grace Admin', email: 'grace@example.com', password: 'first-admin-password' };
const USER = { name: 'Ada Lovelace', email: 'ada@example.com', password: TEST_PASSWORD };
const GMAIL = 'ada@gmail.test';
/** Filled by the admin test, used by the user's. */
const made: { mailboxId?: string } = {};

before(async () => {
  w = await startGmailWorld();
  w.google.setConsentMode('page');
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

/** A form control by its label text, ignoring the required-field asterisk. */
const field = (page: Page, label: string) => page.getByLabel(new RegExp(`^${label.replace(/[()]/g, '\\$&')}\\s*\\*?$`));

async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto('/login');
  // Keyboard only: the email field has autofocus.
  assert.equal(await autofocusedId(page), 'email');
  await page.keyboard.type(who.email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(who.password);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/');
}

test('first-run setup, then the admin makes a Gmail profile from the preset, copies the redirect URI, adds a user and approves a mailbox', () =>
  e2e.session(
    'admin setup and mailbox',
    async ({ page, formPages }) => {
      const token = await issueSetupToken(ctx.db.prisma, ctx.sealer);
      await page.goto(`/setup?token=${token}`);
      await page.getByRole('heading', { name: 'Create the first administrator' }).waitFor();
      // The whole setup form by keyboard: Tab to the first field, type, Tab along the fields in order, Enter submits.
      await tabTo(page, '#f-name');
      await page.keyboard.type(ADMIN.name);
      for (const [id, text] of [
        ['f-email', ADMIN.email],
        ['f-password', ADMIN.password],
        ['f-confirmPassword', ADMIN.password],
      ]) {
        await page.keyboard.press('Tab');
        assert.equal(await focusedId(page), id, 'tab order of the setup form');
        await page.keyboard.type(text);
      }
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.pathname === '/');
      await page.getByText(`${ADMIN.name} (Administrator)`).waitFor();

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Email Server Profiles' }).click();
      await page.getByRole('link', { name: 'Start from Gmail (IMAP)' }).first().click();
      await page.waitForURL(/\/profiles\/new\?preset=gmail-imap/);
      assert.equal(await field(page, 'Incoming Server Location').inputValue(), 'imap.gmail.com');
      assert.equal(await field(page, 'Authenticate Using').inputValue(), 'GMAIL_OAUTH');
      // The preset is Gmail's; this test points it at the loopback fakes.
      await field(page, 'Name').fill('Gmail (test)');
      await field(page, 'Incoming Server Location').fill('127.0.0.1');
      await field(page, 'Incoming Port').fill(String(w.mail.imap.port));
      await field(page, 'Outgoing Server Location').fill('127.0.0.1');
      await field(page, 'Outgoing Port').fill(String(w.mail.smtp.starttlsPort));
      await field(page, 'Client Id').fill(w.clientId);
      await field(page, 'Client Secret').fill(w.clientSecret);
      await page.getByRole('button', { name: 'Create profile' }).click();
      await page.getByRole('heading', { name: 'Gmail (test)', level: 1 }).waitFor();

      const expected = `${ctx.url}/_grid/cmds/dlg_gmailoauth.aspx`;
      assert.equal((await page.locator('#redirect-uri').textContent())?.trim(), expected);
      await page
        .locator('.copy-row', { has: page.locator('#redirect-uri') })
        .getByRole('button', { name: 'Copy' })
        .click();
      await page.getByRole('button', { name: 'Copied' }).waitFor();
      const copied = await page.evaluate<string>('navigator.clipboard.readText()');
      assert.equal(copied, expected);
      // What the admin does next in Google Cloud Console: register the copied URI on the OAuth client.
      w.google.addClient({
        clientId: w.clientId,
        clientSecret: w.clientSecret,
        redirectUris: [copied],
        name: 'Mailroom e2e',
      });

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
      await page.getByRole('link', { name: 'New user' }).click();
      await field(page, 'Name').fill(USER.name);
      await field(page, 'Email').fill(USER.email);
      await field(page, 'Initial password').fill(USER.password);
      await field(page, 'Role').selectOption('USER');
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByRole('cell', { name: USER.email }).waitFor();

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mailboxes' }).click();
      await page.getByRole('link', { name: 'New mailbox' }).click();
      await field(page, 'Name').fill(USER.name);
      await field(page, 'Email Address').fill(GMAIL);
      await field(page, 'Owner').selectOption({ label: `${USER.name} (${USER.email})` });
      const profileSelect = field(page, 'Server Profile');
      await profileSelect.selectOption(
        (await profileSelect.locator('option', { hasText: 'Gmail (test)' }).getAttribute('value')) ?? '',
      );
      await page.getByRole('button', { name: 'Create mailbox' }).click();
      await page.getByRole('heading', { name: USER.name, level: 1 }).waitFor();
      made.mailboxId = new URL(page.url()).pathname.split('/').pop();
      await page.getByText('Pending Approval', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Approve Email' }).click();
      await page.getByText(`Email address ${GMAIL} approved.`).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Approve Email' }).count(), 0);
      // The session checks labels on every page it loads; make sure it saw these forms.
      for (const path of ['/setup', '/profiles/new', '/admin/users/new', '/mailboxes/new']) {
        assert.ok(
          formPages.some((u) => new URL(u).pathname === path),
          `label check ran on ${path} (saw ${formPages.join(', ')})`,
        );
      }
    },
    { permissions: ['clipboard-read', 'clipboard-write'] },
  ));

test('the user signs in to Gmail on the consent page, runs Test & Enable and sees Success without a reload', () =>
  e2e.session('user sign in to gmail and test', async ({ page, formPages }) => {
    assert.ok(made.mailboxId, "continues the admin test's story: run the whole file");
    w.google.addAccount({ email: GMAIL, name: USER.name });
    w.google.addAccount({ email: 'someone.else@gmail.test', name: 'Someone Else' });
    w.mail.accounts.set(GMAIL, {});
    await signIn(page, USER);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mailboxes' }).click();
    await page.getByRole('link', { name: USER.name, exact: true }).click();
    await page.waitForURL(`**/mailboxes/${made.mailboxId}`);
    await page.getByRole('link', { name: 'Sign in to Gmail' }).click();

    // The Google look-alike's consent page.
    await page.waitForURL((u) => u.origin === w.google.url);
    const accounts = page.getByRole('group', { name: 'Choose an account' });
    await accounts.getByLabel(GMAIL).check();
    const mailScope = page.getByLabel('Read, compose, send, and permanently delete all your email from Gmail');
    assert.equal(await mailScope.isChecked(), true);
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL(`${ctx.url}/mailboxes/${made.mailboxId}`);
    await page.getByText(`Signed in to Gmail as ${GMAIL}.`).waitFor();
    await page.getByRole('button', { name: 'Test & Enable Mailbox' }).click();
    await page.waitForURL(`${ctx.url}/mailboxes/${made.mailboxId}`);

    const live = page.locator('[data-live-status]');
    const incoming = live.locator('[data-field="incomingStatus"]');
    const outgoing = live.locator('[data-field="outgoingStatus"]');
    // A marker on window survives only if the page is not reloaded or navigated while the status changes.
    await page.evaluate('window.__e2eMarker = "still here"');
    const navigations: string[] = [];
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations.push(f.url());
    });
    await live.locator('[data-field="incomingStatus"]', { hasText: /^\s*Success\s*$/ }).waitFor({ timeout: WAIT_MS });
    await live.locator('[data-field="outgoingStatus"]', { hasText: /^\s*Success\s*$/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.evaluate<string>('window.__e2eMarker'), 'still here');
    assert.deepEqual(navigations, []);
    assert.equal((await incoming.textContent())?.trim(), 'Success');
    assert.equal((await outgoing.textContent())?.trim(), 'Success');
    assert.equal((await live.locator('[data-field="enabled"]').textContent())?.trim(), 'Incoming and Outgoing');
    assert.ok(
      formPages.some((u) => u.startsWith(w.google.url)),
      'label check ran on the consent page',
    );
  }));

test("a failing mailbox shows the code and what to do; another user's mailbox is not found", () =>
  e2e.session(
    'failing mailbox and isolation',
    async ({ page }) => {
      const { prisma } = ctx.db;
      const user =
        (await prisma.user.findUnique({ where: { email: USER.email } })) ?? (await ctx.user({ ...USER, role: 'USER' }));
      const other = await ctx.user({ name: 'Other Owner' });
      const profile = await createGmailProfile(prisma, ctx.sealer, w, { name: 'Gmail (factory)' });
      const broken = await createConnectedMailbox(prisma, ctx.sealer, w, {
        ownerId: user.id,
        profileId: profile.id,
        email: 'imap.off@gmail.test',
      });
      w.mail.accounts.set(broken.emailAddress, { imapEnabled: false });
      const foreign = await createConnectedMailbox(prisma, ctx.sealer, w, { ownerId: other.id, profileId: profile.id });

      await signIn(page, USER);
      await page.goto(`/mailboxes/${broken.id}`);
      await page.getByRole('button', { name: 'Test & Enable Mailbox' }).click();
      await page.waitForURL(`${ctx.url}/mailboxes/${broken.id}`);
      await page.evaluate(() => {
        (globalThis as unknown as { noReload: boolean }).noReload = true;
      });
      await page
        .locator('[data-live-status] [data-field="incomingStatus"]', { hasText: 'Failure' })
        .waitFor({ timeout: WAIT_MS });
      // The step report with code and hint arrives in place, without a reload.
      const report = page.locator('table.steps');
      await report.getByText('IMAP_DISABLED').waitFor();
      await report.getByText(/Enable IMAP/).waitFor();
      // Outgoing passed, so only outgoing is enabled.
      assert.equal((await page.locator('[data-live-status] [data-field="enabled"]').textContent())?.trim(), 'Outgoing');
      assert.equal(await page.evaluate(() => (globalThis as unknown as { noReload?: boolean }).noReload), true);

      const res = await page.goto(`/mailboxes/${foreign.id}`);
      assert.equal(res?.status(), 404);
      assert.equal(await page.getByText(foreign.emailAddress).count(), 0);
      const res2 = await page.goto(`/mailboxes/${foreign.id}/gmail/signin`);
      assert.equal(res2?.status(), 404);
    },
    { allowConsole: [/Failed to load resource: the server responded with a status of 404/] },
  ));
