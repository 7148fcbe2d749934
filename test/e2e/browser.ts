// Debian Chromium through playwright-core, with the flags TOOLCHAIN.md lists, and a page that
// has window.studio from the test host's shim. Console errors and page errors are collected, so
// a test can prove the strict CSP let everything run.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STUDIO_METHODS } from '../../src/common/channels';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHIM = fileURLToPath(new URL('./host/shim.js', import.meta.url));

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** window.studio over the test host's WebSocket: the method list from channels.ts, then the shim. */
export async function installStudioShim(page: Page): Promise<void> {
  await page.addInitScript(
    (methods) => {
      (window as unknown as { __STUDIO_METHODS__: string[] }).__STUDIO_METHODS__ = methods;
    },
    [...STUDIO_METHODS],
  );
  await page.addInitScript({ path: SHIM });
}

export async function openApp(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await installStudioShim(page);
  await page.goto(url);
  return { page, problems };
}
