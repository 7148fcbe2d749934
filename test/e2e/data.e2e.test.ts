// The Data view as a person uses it: the training digits by class with counts, the test split,
// a jump to an index, paging and the keyboard, and a digit taken into the inspector.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { mnistSubset } from '../helpers/mnist-subset';
import { startApp, type App } from './app';

let app: App;
let data: MnistData;

beforeAll(async () => {
  app = await startApp();
  data = await loadMnist(await mnistSubset(6000, 1000));
});
afterAll(async () => app?.close());

const counts = (labels: Uint8Array): number[] => Array.from({ length: 10 }, (_, c) => labels.reduce((a, l) => a + (l === c ? 1 : 0), 0));

describe('Data view in Chromium', () => {
  it('the training digits by class, with counts per class', async () => {
    const { page } = app;
    await page.getByTestId('nav-data').click();
    await page.getByTestId('class-bars').waitFor();
    const want = counts(data.train.labels);
    for (let c = 0; c < 10; c++) expect(await page.getByTestId(`class-${c}`).locator('.cb-count').textContent()).toBe(want[c].toLocaleString('en-US'));
    expect(await page.getByTestId('class-all').locator('.cb-count').textContent()).toBe('6,000');
    // Row c shows digits of class c, in dataset order.
    for (const c of [0, 7]) {
      const shown = await page
        .getByTestId(`row-${c}`)
        .locator('[data-cell]')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))));
      expect(shown.length).toBeGreaterThan(5);
      const first = [...data.train.labels.keys()].filter((i) => data.train.labels[i] === c).slice(0, shown.length);
      expect(shown).toEqual(first);
    }
    await app.shot('data-train');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.counts-head').getByTestId('save-png').click()]);
    expect(download.suggestedFilename()).toBe('train-images-per-class.png');
  });

  it('one class as a grid, paged', async () => {
    const { page } = app;
    await page.getByTestId('class-3').click();
    const cells = page.locator('.data-main [data-cell]');
    const firstPage = await cells.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))));
    expect(firstPage.every((i) => data.train.labels[i] === 3)).toBe(true);
    await page.getByTestId('page-next').click();
    await expect.poll(() => page.getByTestId('page').textContent()).toMatch(/^page 2 \//);
    const second = await cells.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))));
    expect(second[0]).toBeGreaterThan(firstPage[firstPage.length - 1]);
    await page.locator('body').press('PageUp');
    await expect.poll(() => page.getByTestId('page').textContent()).toMatch(/^page 1 \//);
  });

  it('jumps to an index, and refuses one out of range', async () => {
    const { page } = app;
    await page.getByTestId('jump-index').fill('6000');
    await page.getByTestId('jump-go').click();
    expect(await page.getByTestId('jump-error').textContent()).toContain('an index from 0 to 5,999');
    await page.getByTestId('jump-index').fill('1234');
    await page.getByTestId('jump-index').press('Enter');
    await expect.poll(() => page.getByTestId('detail-index').textContent()).toBe('train #1234');
    expect(await page.getByTestId('detail-label').textContent()).toBe(String(data.train.labels[1234]));
    // The grid switched to that class and page, with the digit selected.
    await page.locator('.data-main [data-cell][data-index="1234"].selected').waitFor();
  });

  it('the test split, and the keyboard through a row of digits', async () => {
    const { page } = app;
    await page.getByTestId('split-test').click();
    await page.getByTestId('class-all').click();
    await expect.poll(() => page.getByTestId('class-all').locator('.cb-count').textContent()).toBe('1,000');
    const want = counts(data.test.labels);
    expect(await page.getByTestId('class-9').locator('.cb-count').textContent()).toBe(String(want[9]));
    const row = page.getByTestId('row-2').locator('[data-cell]');
    await row.first().focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    const second = await row.nth(1).getAttribute('data-index');
    await expect.poll(() => page.getByTestId('detail-index').textContent()).toBe(`test #${second}`);
    await app.shot('data-test');
  });

  it('I takes the digit into the inspector', async () => {
    const { page } = app;
    await page.locator('body').press('i');
    await page.getByTestId('inspect-view').waitFor();
    // No model yet: the inspector says what to do.
    await page.getByTestId('state-empty').getByText('No model to inspect').waitFor();
    expect(app.problems).toEqual([]);
  });
});
