// The Compare view as a person uses it: pick two runs, see their curves overlaid, the settings
// that differ and nothing else, the final test error of each, and the test digits B fixed or
// broke relative to A — checked against the studio's evaluations of the two final models.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/node/datasets';
import type { RunSummary } from '../../src/common/records';
import { fixedBroken } from '../../src/renderer/src/lib/metrics';
import { mnistSubset } from '../helpers/mnist-subset';
import { startApp, trainRun, type App } from './app';

let app: App;
let a: RunSummary;
let b: RunSummary;

beforeAll(async () => {
  app = await startApp();
  a = await trainRun(app.host, 'lenet5-relu-ce', { lr: 0.01, limit: 2000, validation: 200 });
  b = await trainRun(app.host, 'lenet5-relu-ce', { lr: 0.05, limit: 2000, validation: 200, epochs: 2 });
});
afterAll(async () => app?.close());

describe('Compare view in Chromium', () => {
  it('asks for two runs until two are picked', async () => {
    const { page } = app;
    await page.getByTestId('nav-compare').click();
    await page.getByTestId(`pick-${a.id}`).check();
    await page.getByTestId('state-empty').getByText('Pick two or more runs').waitFor();
  });

  const points = async (): Promise<number> => Number(await app.page.getByTestId('compare-loss').getAttribute('data-points'));

  it('two runs: overlaid curves, only the settings that differ, final test errors', async () => {
    const { page } = app;
    await page.getByTestId(`pick-${b.id}`).check();
    await page.getByTestId('config-diff').waitFor();
    const detailA = await app.host.studio.getRun(a.id);
    const detailB = await app.host.studio.getRun(b.id);
    await expect
      .poll(async () => Number(await page.getByTestId('compare-loss').getAttribute('data-points')))
      .toBe(detailA.lossCurve.length + detailB.lossCurve.length);
    expect(Number(await page.getByTestId('compare-accuracy').getAttribute('data-points'))).toBe(3); // 1 + 2 epochs

    const rows = await page
      .getByTestId('config-diff')
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-testid')));
    expect(rows).toEqual(['diff-epochs', 'diff-lr']);
    expect(await page.getByTestId('diff-lr').locator('td').allTextContents()).toEqual(['0.01', '0.05']);

    for (const r of [detailA, detailB]) {
      const shown = await page.getByTestId(`final-${r.id}`).locator('td.num').textContent();
      expect(shown).toBe(`${(100 * (1 - r.finalTestAccuracy!)).toFixed(2)}%`);
    }
  });

  it('the batch loss smoothed as in Train, on an axis of epochs (runs of any size line up), images or time', async () => {
    const { page } = app;
    const chart = page.getByTestId('compare-loss');
    const pixels = () => chart.locator('canvas').evaluate((c) => (c as HTMLCanvasElement).toDataURL());
    const detailA = await app.host.studio.getRun(a.id);
    const detailB = await app.host.studio.getRun(b.id);
    expect(await chart.getAttribute('data-x-label')).toBe('epoch');
    // Runs of 1 and 2 epochs: the curve of the longer one ends near epoch 2.
    expect(Number(await chart.getAttribute('data-x-max'))).toBeCloseTo(detailB.lossCurve.at(-1)![0] / detailB.trainCount, 9);
    const before = await points();
    const drawn = await pixels();
    await page.getByTestId('compare-smoothing').fill('0');
    await expect.poll(pixels).not.toBe(drawn);
    expect(await points()).toBe(before);
    await page.getByTestId('x-axis-images').click();
    await expect.poll(() => chart.getAttribute('data-x-max')).toBe(String(Math.max(detailA.lossCurve.at(-1)![0], detailB.lossCurve.at(-1)![0])));
    await page.getByTestId('log-loss').check();
    await expect.poll(() => page.getByTestId('compare-test-loss').getAttribute('data-log-y')).toBe('true');
    await page.getByTestId('log-loss').uncheck();
    await page.getByTestId('x-axis-epoch').click();
    await page.getByTestId('compare-smoothing').fill('0.6');
  });

  it('digits B fixed and broke relative to A, as thumbnails', async () => {
    const { page } = app;
    await page.getByTestId('fixed-broke-summary').waitFor({ timeout: 60_000 });
    const labels = (await loadMnist(await mnistSubset(6000, 1000))).test.labels;
    const pa = (await app.host.studio.evaluateModel(await app.host.studio.runModel(a.id, 'latest'))).predictions;
    const pb = (await app.host.studio.evaluateModel(await app.host.studio.runModel(b.id, 'latest'))).predictions;
    const want = fixedBroken(labels, pa, pb);
    const summary = await page.getByTestId('fixed-broke-summary').textContent();
    expect(summary).toContain(`B fixed ${want.fixed.length} and broke ${want.broke.length}`);
    if (want.fixed.length) {
      const shown = await page
        .getByTestId('fixed')
        .locator('[data-cell]')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))));
      expect(shown).toEqual(want.fixed.slice(0, 120));
    }
    if (want.broke.length) {
      const shown = await page
        .getByTestId('broke')
        .locator('[data-cell]')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))));
      expect(shown).toEqual(want.broke.slice(0, 120));
    }
    await app.shot('compare');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.compare-tables').getByTestId('save-png').click()]);
    expect(download.suggestedFilename()).toBe('final-test-error.png');
  });

  it('swapping A and B swaps fixed and broke', async () => {
    const { page } = app;
    const before = await page.getByTestId('fixed-broke-summary').textContent();
    const [, fixed, broke] = /B fixed (\d+) and broke (\d+)/.exec(before ?? '')!;
    await page.getByTestId('select-a').selectOption(b.id);
    await expect.poll(() => page.getByTestId('fixed-broke-summary').textContent(), { timeout: 30_000 }).toContain(`B fixed ${broke} and broke ${fixed}`);
    expect(app.problems).toEqual([]);
  });
});
