// Browser tests of bulk work in Chromium: an admin downloads nothing but uploads a CSV, reads the preview (a bad row
// named with its reason), imports the valid rows in the background and watches the page reach the summary; then
// approves the new mailboxes in bulk from the list through the confirmation to the result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { signIn, startE2E, type E2E } from '../helpers/browser.ts';
import { credentialsProfile, rand } from '../helpers/mailbox-factory.ts';
import { WAIT_MS } from '../helpers/wait.ts';

let ctx: TestContext;
let e2e: E2E;

before(async () => {
  ctx = await createTestContext('pglite', { jobs: true });
  e2e = await startE2E(ctx.url, { logs: () => ctx.logs });
});
after(async () => {
  await e2e?.close();
  await ctx?.close();
});

test('CSV import: upload, preview with a bad row, import in the background, summary; then a bulk Approve Email', () =>
  e2e.session('csv import and bulk approve', async ({ page }) => {
    const { prisma } = ctx.db;
    const admin = await ctx.user({ role: 'ADMIN' });
    const owner = await ctx.user();
    const profile = await credentialsProfile(prisma, { name: `Office ${rand()}` });
    const t = rand();
    const rows = Array.from(
      { length: 12 },
      (_, i) => `Team ${t} ${String(i).padStart(2, '0')},team${i}-${t}@x.test,${owner.email},${profile.name},,`,
    );
    const csv = [
      'Name,Email Address,Owner Email,Server Profile,Incoming Email,Outgoing Email',
      ...rows,
      `Nobody ${t},nobody-${t}@x.test,ghost-${t}@x.test,${profile.name},,`,
    ].join('\n');

    await signIn(page, admin);
    await page.goto('/mailboxes');
    await page.getByRole('link', { name: 'Import from CSV' }).click();
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'team.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Upload and check' }).click();
    await page.waitForURL(/\/mailboxes\/import\/[0-9a-f-]{36}$/);
    const summary = page.locator('#import-summary');
    assert.match(
      (await summary.textContent()) ?? '',
      /13\s+rows in the file\.\s+12\s+ready to import\.\s+1\s+with errors/,
    );
    const bad = page.locator('tr[data-line="14"] td.result');
    assert.match((await bad.textContent()) ?? '', /Error:\s+Unknown owner: no active user has the email ghost-/);

    // A network step on the in-process app: at load ~30 its answer (PGlite blocking the event loop) took over the
    // context's 30 s default, with the import itself fine.
    await page.getByRole('button', { name: 'Import 12 mailboxes' }).click({ timeout: WAIT_MS });
    // The page follows the job (status polling) and shows the summary when it ends, without a click.
    await page.getByText('12 mailboxes imported.').waitFor({ timeout: 60_000 });
    assert.equal(await prisma.mailbox.count({ where: { emailAddress: { contains: t } } }), 12);
    assert.ok(await page.getByRole('link', { name: 'Download the rows not imported (CSV)' }).isVisible());

    // Bulk approve: all mailboxes matching a search, through the confirmation naming the count.
    await page.goto('/mailboxes');
    await page.getByLabel('Search mailboxes').fill(`Team ${t}`);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByLabel(`Select Team ${t} 00`).check();
    await page.getByLabel(`Select Team ${t} 01`).check();
    await page.getByRole('button', { name: 'Approve Email' }).click();
    assert.match((await page.locator('main p.lead').textContent()) ?? '', /Approve Email for 2 mailboxes/);
    await page.getByRole('button', { name: 'Approve Email' }).click();
    await page.waitForURL(/\/mailboxes\/bulk\/result$/);
    assert.match((await page.locator('.bulk-summary').textContent()) ?? '', /2 mailboxes\s+approved\./);
    // Then the rest at once: "all 12 matching" (two already approved are skipped).
    await page.goto(`/mailboxes?q=${encodeURIComponent(`Team ${t}`)}`);
    await page.getByLabel(/Instead: all 12 mailboxes matching this search/).check();
    await page.getByRole('button', { name: 'Approve Email' }).click();
    assert.match(
      (await page.locator('main p.lead').textContent()) ?? '',
      /Approve Email for 12 mailboxes \(all matching/,
    );
    await page.getByRole('button', { name: 'Approve Email' }).click();
    await page.waitForURL(/\/mailboxes\/bulk\/result$/);
    assert.match(
      (await page.locator('.bulk-summary').textContent()) ?? '',
      /10 mailboxes\s+approved\.\s+2 mailboxes\s+skipped\./,
    );
    assert.equal(
      await prisma.mailbox.count({ where: { emailAddress: { contains: t }, emailApproval: 'APPROVED' } }),
      12,
    );
  }));
