// The Data lab's label issues in Chromium, against the real studio and trainer: the finder runs in
// the trainer process with progress (and Cancel stops it), the ranked gallery shows the digits, marking them and Save
// writes the dataset's overlay, a reload brings the ranking (from the cache) and the marks back,
// and "New run with corrections" starts a run trained with the overlay (run.json records it).
// Screenshots: test-results/datalab-*.png, light and dark, 1280×800 and 960×640.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from './app';

let app: App;

beforeAll(async () => {
  // A small training set keeps the four folds quick.
  app = await startApp({ train: 2000, test: 500 });
});
afterAll(async () => app?.close());

async function shots(name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await app.page.emulateMedia({ colorScheme: scheme });
    for (const size of [
      { width: 1280, height: 800 },
      { width: 960, height: 640 },
    ]) {
      await app.page.setViewportSize(size);
      await app.page.waitForTimeout(150);
      await app.shot(`datalab-${name}-${size.width}x${size.height}-${scheme}`);
    }
  }
  await app.page.emulateMedia({ colorScheme: 'light' });
  await app.page.setViewportSize({ width: 1280, height: 800 });
}

describe('Data lab: label issues', () => {
  it('finds label issues in the backend with progress and shows them as a ranked gallery', async () => {
    const { page } = app;
    await page.getByTestId('nav-datalab').click();
    await page.getByTestId('no-issues').waitFor();
    // Cancel stops the finder: the button comes back, no ranking, a notice says so.
    await page.getByTestId('find-issues').click();
    await page.getByTestId('cancel-find').click();
    await page.getByTestId('find-issues').waitFor();
    await page.getByTestId('no-issues').waitFor();
    expect(await page.getByTestId('notice-summary').allTextContents()).toContain(
      'Finder cancelled: nothing was kept; Find starts it again from the beginning.',
    );
    expect(app.problems).toEqual([]);

    await page.getByTestId('find-issues').click();
    await page.getByTestId('find-progress').waitFor();
    await app.shot('datalab-finding-1280x800-light');
    const gallery = page.getByTestId('issues-gallery');
    await gallery.locator('li').first().waitFor({ timeout: 120_000 });
    expect(await gallery.locator('li').count()).toBe(40);
    await gallery.locator('li canvas').first().waitFor();
    const first = await gallery.locator('li').first().textContent();
    expect(first).toMatch(/^\s*1\. image \d+/);
    await shots('gallery');
  }, 180_000);

  it('marks digits, saves the overlay, and a reload brings the ranking and the marks back', async () => {
    const { page } = app;
    const cards = page.getByTestId('issues-gallery').locator('li');
    const i0 = Number(await cards.nth(0).getAttribute('data-index'));
    const i1 = Number(await cards.nth(1).getAttribute('data-index'));
    const i2 = Number(await cards.nth(2).getAttribute('data-index'));
    const accept = cards.nth(0).locator('button.li-accept');
    const suggested = Number((await accept.textContent())?.replace(/\D+/g, ''));
    await accept.click();
    await cards.nth(1).getByRole('combobox').selectOption('x');
    // any label but the given one
    const given2 = Number((await cards.nth(2).locator('.li-meta strong').first().textContent()) ?? '0');
    const set2 = given2 === 3 ? '4' : '3';
    await cards.nth(2).getByRole('combobox').selectOption(set2);
    await expect.poll(() => page.getByTestId('marks-count').textContent()).toMatch(/2 relabelled, 1 excluded \(not saved\)/);
    await page.getByTestId('save-overlay').click();
    await expect.poll(() => page.getByTestId('marks-count').textContent()).toBe('2 relabelled, 1 excluded');
    const fp = (await app.host.studio.dataset()).fingerprint;
    const saved = JSON.parse(await readFile(join(app.dataDir, 'overlays', `${fp}.json`), 'utf8')) as {
      relabel: { index: number; label: number }[];
      exclude: number[];
    };
    expect(saved.exclude).toEqual([i1]);
    expect(saved.relabel).toEqual(
      [
        { index: i0, label: suggested },
        { index: i2, label: Number(set2) },
      ].sort((a, b) => a.index - b.index),
    );
    await shots('marked');

    await page.reload();
    await page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor();
    await page.getByTestId('nav-datalab').click();
    // from the cache: no finder run, the same first digit, the marks as saved
    await page.getByTestId('issues-gallery').locator('li').first().waitFor({ timeout: 20_000 });
    expect(Number(await cards.nth(0).getAttribute('data-index'))).toBe(i0);
    await expect.poll(() => page.getByTestId('marks-count').textContent()).toBe('2 relabelled, 1 excluded');
    expect(await cards.nth(1).getByRole('combobox').inputValue()).toBe('x');
  }, 120_000);

  it('starts a new run trained with the corrections', async () => {
    const { page } = app;
    await page.getByTestId('run-with-overlay').click();
    let runId = '';
    await expect
      .poll(async () => {
        runId = (await app.host.studio.listRuns())[0]?.id ?? '';
        return runId;
      })
      .not.toBe('');
    const cfg = JSON.parse(await readFile(join(app.dataDir, 'runs', runId, 'run.json'), 'utf8')) as {
      trainCount: number;
      validation: number;
      dataset: { overlay?: { relabelled: number; excluded: number } };
    };
    expect(cfg.dataset.overlay).toMatchObject({ relabelled: 2, excluded: 1 });
    // the excluded digit is not trained on: 1,999 images split into training and validation
    expect(cfg.trainCount + cfg.validation).toBe(1999);
    await app.host.studio.cancelRun(runId).catch(() => undefined);
  }, 60_000);
});
