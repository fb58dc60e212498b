// The API tokens page and the interactive API docs in a real browser: create a token (shown once), follow the footer's
// link to /api/docs (Swagger UI served by Mailroom under its strict CSP: any blocked script or style is a console
// error, which fails the test), authorize with the token and call GET /api/v1/me from the docs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { startE2E, type E2E } from '../helpers/browser.ts';

let ctx: TestContext;
let e2e: E2E;

before(async () => {
  ctx = await createTestContext('pglite');
  e2e = await startE2E(ctx.url, { logs: () => ctx.logs });
});
after(async () => {
  await e2e?.close();
  await ctx?.close();
});

test('create an API token, open the docs from the footer, authorize and try GET /me', async () => {
  const user = await ctx.user({ role: 'USER', name: 'Tess Token' });
  await e2e.session('api docs', async ({ page }) => {
    await page.goto('/login');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByLabel('Name').fill('Browser check');
    await page.getByLabel('Access').selectOption('READ_ONLY');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('new-token').textContent())?.trim() ?? '';
    assert.match(token, /^mrt_/);
    await page.getByRole('link', { name: 'Back to API tokens' }).click();
    assert.equal(await page.getByText(token).count(), 0, 'shown once only');
    await page.getByRole('cell', { name: 'Browser check' }).waitFor();

    await page.getByRole('link', { name: 'API documentation' }).first().click();
    await page.waitForURL(/\/api\/docs/);
    await page.getByText('Mailroom API').first().waitFor();
    await page
      .getByRole('button', { name: /Authorize/ })
      .first()
      .click();
    await page.locator('.modal-ux input').first().fill(token);
    await page.locator('.modal-ux').getByRole('button', { name: 'Authorize', exact: true }).click();
    await page.locator('.modal-ux').getByRole('button', { name: 'Close' }).click();
    const me = page.locator('#operations-Account-getMe');
    await me.locator('.opblock-summary').click();
    await me.getByRole('button', { name: 'Try it out' }).click();
    await me.getByRole('button', { name: 'Execute' }).click();
    await me.locator('.live-responses-table .response-col_status').filter({ hasText: '200' }).first().waitFor();
    assert.match((await me.locator('.live-responses-table').textContent()) ?? '', /Browser check/);
  });
});
