// The Evaluate view as a person uses it: open the confusion matrix of a run's model, move
// through it with the keyboard, click a cell, see its digits sorted by confidence, open one in
// the inspector; filter the misclassified digits; read per-class precision/recall/F1/support.
// Every number is checked against the studio's own evaluation of the same model.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/common/records';
import { CIVIDIS, cssColor } from '../../src/renderer/src/lib/colormap';
import { classReport } from '../../src/renderer/src/lib/metrics';
import { loadMnist } from '../../src/node/datasets';
import { mnistSubset } from '../helpers/mnist-subset';
import { startApp, trainRun, type App } from './app';

let app: App;
let truth: Evaluation;
let labels: Uint8Array;
/** The largest off-diagonal cell. */
let worst: { t: number; p: number; n: number };

beforeAll(async () => {
  app = await startApp();
  // A deliberately short run, so the matrix has mistakes to look at.
  const run = await trainRun(app.host, 'lenet5-tanh-mse', { limit: 2000, validation: 200 });
  truth = await app.host.studio.evaluateModel(await app.host.studio.runModel(run.id, 'latest'));
  labels = (await loadMnist(await mnistSubset(6000, 1000))).test.labels;
  worst = { t: 0, p: 1, n: -1 };
  truth.confusion.forEach((row, t) => row.forEach((n, p) => void (t !== p && n > worst.n && (worst = { t, p, n }))));
});
afterAll(async () => app?.close());

const cellCount = async (t: number, p: number): Promise<number> => Number(await app.page.getByTestId(`cell-${t}-${p}`).locator('.cm-count').textContent());

describe('Evaluate view in Chromium', () => {
  it('without a model: the designed empty state', async () => {
    await app.page.getByTestId('nav-evaluate').click();
    await app.page.getByTestId('state-empty').getByText('No model to evaluate').waitFor();
  });

  it('evaluates the model on screen: the confusion matrix and per-class report match the studio', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"]').first().getByRole('button', { name: 'Latest model' }).click();
    await page.getByTestId('model-label').waitFor();
    await page.getByTestId('nav-evaluate').click();
    await page.getByTestId('confusion').waitFor({ timeout: 60_000 });
    for (let t = 0; t < 10; t++) for (let p = 0; p < 10; p++) expect(await cellCount(t, p), `cell ${t}→${p}`).toBe(truth.confusion[t][p]);
    // Row-normalised rate under each count.
    const rate = await page.getByTestId(`cell-${worst.t}-${worst.p}`).locator('.cm-rate').textContent();
    const rowSum = truth.confusion[worst.t].reduce((a, b) => a + b, 0);
    expect(rate).toBe(`${((100 * worst.n) / rowSum).toFixed(1)}%`);

    const report = classReport(truth.confusion);
    for (const r of report.rows) {
      const cells = await page.getByTestId(`report-${r.cls}`).locator('td').allTextContents();
      expect(cells).toEqual([`${(100 * r.precision).toFixed(1)}%`, `${(100 * r.recall).toFixed(1)}%`, `${(100 * r.f1).toFixed(1)}%`, String(r.support)]);
    }
    expect(await page.getByTestId('report-accuracy').textContent()).toBe(`${(100 * truth.accuracy).toFixed(2)}%`);
    await app.shot('evaluate-matrix');
  });

  it('errors stand out: off-diagonal cells on their own log scale, or on the diagonal’s on demand', async () => {
    const { page } = app;
    const bg = (t: number, p: number) => page.getByTestId(`cell-${t}-${p}`).evaluate((el) => getComputedStyle(el).backgroundColor);
    const rowSum = truth.confusion[worst.t].reduce((a, b) => a + b, 0);
    // The most frequent error is the brightest colour of the scale, though it is a small share of its row.
    expect(await bg(worst.t, worst.p)).toBe(cssColor(CIVIDIS, 1));
    const one = truth.confusion.flatMap((row, t) => row.flatMap((n, p) => (t !== p && n === 1 ? [{ t, p }] : [])))[0];
    if (one) expect(await bg(one.t, one.p)).toBe(cssColor(CIVIDIS, Math.log1p(1) / Math.log1p(worst.n)));
    await page.getByTestId('cm-errors-shared').click();
    await expect.poll(() => bg(worst.t, worst.p)).toBe(cssColor(CIVIDIS, worst.n / rowSum));
    await page.getByTestId('cm-errors-own').click();
    await expect.poll(() => bg(worst.t, worst.p)).toBe(cssColor(CIVIDIS, 1));
  });

  it('the keyboard moves through the matrix and Enter opens a cell', async () => {
    const { page } = app;
    await page.getByTestId('cell-0-0').focus();
    for (let i = 0; i < worst.t; i++) await page.keyboard.press('ArrowDown');
    for (let i = 0; i < worst.p; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-cell'))).toBe(`${worst.t}-${worst.p}`);
    await page.keyboard.press('Enter');
    expect(await page.getByTestId('tab-cell').textContent()).toContain(`Cell ${worst.t}→${worst.p} (${worst.n})`);
  });

  it('a cell’s gallery: its digits, most confident first; a digit opens in the inspector', async () => {
    const { page } = app;
    await page.getByTestId('cell-0-0').click();
    await page.getByTestId(`cell-${worst.t}-${worst.p}`).click();
    const cells = page.getByTestId('gallery').locator('[data-cell]');
    await expect.poll(() => cells.count()).toBe(Math.min(worst.n, 120));
    const indices = (await cells.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))))) as number[];
    for (const i of indices) {
      expect(labels[i]).toBe(worst.t);
      expect(truth.predictions[i]).toBe(worst.p);
    }
    const conf = indices.map((i) => truth.scores[i * 10 + worst.p]);
    for (let k = 1; k < conf.length; k++) expect(conf[k]).toBeLessThanOrEqual(conf[k - 1]);
    await app.shot('evaluate-cell');

    await cells.first().click();
    await page.getByTestId('inspect-view').waitFor();
    expect(await page.getByTestId('digit-source').textContent()).toContain(`test #${indices[0]} · label ${worst.t}`);
    expect(Number(await page.getByTestId('predicted').textContent())).toBe(worst.p);
    expect(await page.getByTestId('sequence').textContent()).toContain(`1 of ${worst.n} in “true ${worst.t} → predicted ${worst.p}”`);
    if (worst.n > 1) {
      await page.getByTestId('next-digit').click();
      await expect.poll(() => page.getByTestId('digit-source').textContent()).toContain(`test #${indices[1]} `);
    }
  });

  it('misclassified digits with true → predicted filters', async () => {
    const { page } = app;
    await page.getByTestId('nav-evaluate').click();
    await page.getByTestId('tab-wrong').click();
    const wrong = truth.predictions.reduce((a, p, i) => a + (p !== labels[i] ? 1 : 0), 0);
    expect(await page.getByTestId('tab-wrong').textContent()).toContain(`Misclassified (${wrong})`);
    await page.getByTestId('filter-true').selectOption(String(worst.t));
    const rowWrong = truth.confusion[worst.t].reduce((a, n, p) => a + (p === worst.t ? 0 : n), 0);
    await expect.poll(() => page.getByTestId('tab-wrong').textContent()).toContain(`(${rowWrong})`);
    await page.getByTestId('filter-pred').selectOption(String(worst.p));
    await expect.poll(() => page.getByTestId('tab-wrong').textContent()).toContain(`(${worst.n})`);
    const captions = await page.getByTestId('gallery').locator('.digit-caption').allTextContents();
    for (const c of captions) expect(c).toMatch(new RegExp(`^${worst.t}→${worst.p} `));
    await app.shot('evaluate-misclassified');
  });

  it('saves the confusion matrix as a PNG, and logged no errors', async () => {
    const [download] = await Promise.all([app.page.waitForEvent('download'), app.page.getByTestId('save-confusion').click()]);
    expect(download.suggestedFilename()).toBe('confusion-matrix.png');
    expect(app.problems).toEqual([]);
  });
});
