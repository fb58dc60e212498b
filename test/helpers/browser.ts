// Browser tests: Debian's Chromium through playwright-core, one context per test, console-error and label checks, failure artifacts;
// sign-in through the form, the no-reload marker, and the Gmail world a browser file starts once (gmailBrowserWorld).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createTestContext, type ContextOptions, type TestContext } from './context.ts';
import { startGmailWorld, type GmailWorld } from './gmail-world.ts';
import { WAIT_MS } from './wait.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/e2e');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Fails (never skips) without Chromium: CI installs it, and a silent skip would hide the whole suite. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Browser tests need Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set CHROMIUM_PATH). .ci/run installs it.`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 }); // a loaded machine starts Chromium slowly
}

export interface Unlabelled {
  url: string;
  controls: string[];
}

/**
 * Every input/select/textarea except hidden and submit inputs needs a <label>, aria-label or aria-labelledby.
 * Runs in the page; kept as source text because this project's TypeScript has no DOM types.
 */
const UNLABELLED_SOURCE = `[...document.querySelectorAll('input, select, textarea')]
  .filter((el) => !(el.tagName === 'INPUT' && ['hidden', 'submit'].includes(el.type)))
  .filter((el) => {
    if (el.labels && el.labels.length > 0) return false;
    if ((el.getAttribute('aria-label') || '').trim()) return false;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    return !(ids.length && ids.every((id) => (document.getElementById(id)?.textContent || '').trim()));
  })
  .map((el) => el.outerHTML.slice(0, 160))`;

export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(UNLABELLED_SOURCE);
}

export interface Session {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught page errors so far (the test fails on any not allowed). */
  consoleErrors: string[];
  /** Form pages checked for labels so far. */
  formPages: string[];
}

export interface SessionOptions {
  /** Console errors the test expects, e.g. the 404 of a page it opens on purpose. */
  allowConsole?: RegExp[];
  permissions?: string[];
  /** Extra text saved next to the screenshot on failure (server logs). */
  logs?: () => string[];
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);

async function saveArtifacts(page: Page, name: string, logs?: () => string[]): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const base = join(ARTIFACTS, `${slug(name)}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const saved: string[] = [];
  await page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 5_000 }).then(
    () => saved.push(`${base}.png`),
    () => undefined,
  );
  await page.content().then(
    (html) => {
      writeFileSync(`${base}.html`, html);
      saved.push(`${base}.html`);
    },
    () => undefined,
  );
  if (logs) {
    writeFileSync(`${base}.log`, logs().join(''));
    saved.push(`${base}.log`);
  }
  console.error(`e2e failure in "${name}" at ${page.url()}\n  artifacts: ${saved.join('\n             ')}`);
}

export interface E2E {
  baseURL: string;
  /** Runs fn with a fresh browser context; on failure saves a screenshot, the HTML and the server logs. */
  session(name: string, fn: (s: Session) => Promise<void>, opts?: SessionOptions): Promise<void>;
  close(): Promise<void>;
}

export async function startE2E(baseURL: string, defaults: SessionOptions = {}): Promise<E2E> {
  const browser = await launchChromium();
  return {
    baseURL,
    async session(name, fn, opts = {}) {
      const o = { ...defaults, ...opts };
      const context = await browser.newContext({ baseURL });
      context.setDefaultTimeout(30_000); // generous: Chromium shares two cores with the server and other tests
      // Navigations wait on the in-process app, which at load ~30 answered /login after more than 30 s (PGlite blocks
      // its event loop): a network step, given the waits' deadline.
      context.setDefaultNavigationTimeout(WAIT_MS);
      if (o.permissions) await context.grantPermissions(o.permissions, { origin: baseURL });
      const page = await context.newPage();
      const s: Session = { page, context, consoleErrors: [], formPages: [] };
      const unlabelled: Unlabelled[] = [];
      const checks: Promise<void>[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error')
          s.consoleErrors.push(
            `console.error at ${page.url()}: ${m.text()}${m.location().url ? ` (${m.location().url})` : ''}`,
          );
      });
      page.on('pageerror', (e) => s.consoleErrors.push(`uncaught at ${page.url()}: ${e.message}`));
      // Every page that loads with a form control gets the label check, whoever serves it (Mailroom or the Google fake).
      page.on('load', () =>
        checks.push(
          (async () => {
            const url = page.url();
            const controls = await unlabelledControls(page).catch(() => null); // null: navigated away meanwhile
            if (controls === null) return;
            if (
              await page
                .locator('input, select, textarea')
                .count()
                .catch(() => 0)
            )
              s.formPages.push(url);
            if (controls.length) unlabelled.push({ url, controls });
          })(),
        ),
      );
      try {
        await fn(s);
        await Promise.all(checks);
        const unexpected = s.consoleErrors.filter((e) => !(o.allowConsole ?? []).some((re) => re.test(e)));
        if (unexpected.length) throw new Error(`Unexpected console errors:\n  ${unexpected.join('\n  ')}`);
        if (unlabelled.length) {
          throw new Error(
            `Form controls without a label, aria-label or aria-labelledby:\n${unlabelled.map((u) => `  ${u.url}\n    ${u.controls.join('\n    ')}`).join('\n')}`,
          );
        }
      } catch (e) {
        await saveArtifacts(page, name, o.logs);
        throw e;
      } finally {
        await context.close();
      }
    },
    close: () => browser.close(),
  };
}

/** Presses Tab until `selector` has focus (at most `max` times): reaching a field the way a keyboard user does. */
export async function tabTo(page: Page, selector: string, max = 30): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.locator(selector).evaluate((el) => el === el.ownerDocument.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${selector} did not receive focus after ${max} presses of Tab`);
}

/** Asserts the element that has focus, so a test notices a broken tab order. */
export async function focusedId(page: Page): Promise<string> {
  return page.evaluate<string>("document.activeElement ? document.activeElement.id : ''");
}

/**
 * The id of the element an `autofocus` attribute focused. Chromium applies autofocus at a rendering update after the
 * page loads, not at load: on a busy machine `goto` can return before it (seen in CI: the body had focus). Waits for
 * some element other than the body to have focus, then says which — a missing autofocus still fails (with '').
 */
export async function autofocusedId(page: Page, timeoutMs = 10_000): Promise<string> {
  await page
    .waitForFunction('document.activeElement && document.activeElement !== document.body', undefined, {
      timeout: timeoutMs,
    })
    .catch(() => undefined);
  return focusedId(page);
}

/** Signs in through the login form, as a user with a mouse does. */
export async function signIn(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/');
}

/** A marker on window survives only if the page is neither reloaded nor navigated: markNoReload, then later… */
export const markNoReload = (page: Page) => page.evaluate('window.__noReload = true');
/** …assertNoReload: the page changed in place. */
export const assertNoReload = async (page: Page) => assert.equal(await page.evaluate('window.__noReload'), true);

export interface GmailBrowserWorld {
  w: GmailWorld;
  ctx: TestContext;
  e2e: E2E;
}

/**
 * A browser file's world, started once for the file (top-level before/after): the Gmail world (Google fake and mail
 * fakes), the app with its jobs on PGlite, and one Chromium. `app` gives the dependency overrides (Test & Enable or
 * send tuning) besides the mail TLS CA. Its fields are set once `before` has run.
 */
export function gmailBrowserWorld(app: ContextOptions['app'] = {}): GmailBrowserWorld {
  const s = {} as GmailBrowserWorld;
  before(async () => {
    s.w = await startGmailWorld();
    s.ctx = await createTestContext('pglite', {
      jobs: true,
      env: s.w.googleEnv,
      app: { mailTlsCa: s.w.mail.ca, ...app },
    });
    s.e2e = await startE2E(s.ctx.url, { logs: () => s.ctx.logs });
  });
  after(async () => {
    await s.e2e?.close();
    await s.ctx?.close();
    await s.w?.close();
  });
  return s;
}
