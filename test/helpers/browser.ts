import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { packageRoot } from '../../src/paths.js';

/**
 * Headless Chromium for tests that must see what a person sees: Debian's `chromium` (apt), driven
 * by npm's playwright-core, which downloads no browser of its own. A machine without it skips
 * these tests with the reason printed; with LARDER_REQUIRE_CLIENTS=1 (CI) it fails instead.
 */
export const chromiumPath = process.env.LARDER_CHROMIUM ?? '/usr/bin/chromium';

export const browserMissing = existsSync(chromiumPath)
  ? null
  : `${chromiumPath} is missing (apt-get install chromium)`;
if (browserMissing && process.env.LARDER_REQUIRE_CLIENTS === '1') {
  throw new Error(`LARDER_REQUIRE_CLIENTS=1 but ${browserMissing}`);
}

/** `it` for a test that drives the browser. */
export function itWithBrowser(name: string, fn: () => Promise<void>, timeout?: number): void {
  if (browserMissing) {
    console.warn(`skipped "${name}": ${browserMissing}`);
    it.skip(name, fn);
    return;
  }
  it(name, fn, timeout);
}

export const screenshotDir = join(packageRoot, 'test-output', 'screenshots');

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  await mkdir(screenshotDir, { recursive: true });
  // Tests run as root in CI, where Chromium refuses its sandbox.
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
}

/**
 * A page that records what a broken page would show: console errors (a refused inline
 * script or style is one), uncaught exceptions, Content-Security-Policy violations, and
 * error statuses of anything it loads.
 */
export async function watchedPage(
  context: BrowserContext,
): Promise<{ page: Page; problems: string[] }> {
  const problems: string[] = [];
  // Init scripts are injected by the driver, so the page's CSP does not apply to this one.
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) =>
      console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));`,
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    // A failed load is reported with its URL just below, where the favicon can be told apart.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`${page.url()}: ${message.text()}`);
    }
  });
  page.on('response', (response) => {
    // Larder has no favicon; the browser asks for one on its own, no page links it.
    if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico') {
      problems.push(`${response.status()} for ${response.url()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
  return { page, problems };
}

/** Saves the full page as `<name>.png` under test-output/screenshots/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}
