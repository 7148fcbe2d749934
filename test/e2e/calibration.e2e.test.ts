// Calibration and the nearest training digits in Chromium: Evaluate's reliability diagram and ECE
// (checked against the studio's own evaluation), Calibrate on the run's validation images and
// Apply, which the inspector's scores then use; Inspect's strip of the nearest training digits,
// a click on one inspecting it. Screenshots at 1280×800 and 960×640 in both themes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/common/records';
import { calibrationOf } from '../../src/engine/calibration';
import { loadMnist } from '../../src/node/datasets';
import { mnistSubset } from '../helpers/mnist-subset';
import { startApp, trainRun, type App } from './app';

let app: App;
let truth: Evaluation;
let labels: Uint8Array;
let tempText = '';

const SIZES = [
  { width: 1280, height: 800 },
  { width: 960, height: 640 },
];

beforeAll(async () => {
  app = await startApp({ train: 3000, test: 500, colorScheme: 'light' });
  const run = await trainRun(app.host, 'lenet5-relu-ce', { limit: 2000, validation: 300 });
  truth = await app.host.studio.evaluateModel(await app.host.studio.runModel(run.id, 'latest'));
  labels = (await loadMnist(await mnistSubset(3000, 500))).test.labels;
}, 240_000);
afterAll(async () => app?.close());

async function shots(name: string, testid: string): Promise<void> {
  for (const theme of ['light', 'dark'] as const) {
    await app.page.emulateMedia({ colorScheme: theme });
    for (const size of SIZES) {
      await app.page.setViewportSize(size);
      await app.page.getByTestId(testid).scrollIntoViewIfNeeded();
      await app.shot(`${name}-${theme}-${size.width}x${size.height}`);
    }
  }
  await app.page.emulateMedia({ colorScheme: 'light' });
  await app.page.setViewportSize(SIZES[0]);
}

describe('calibration and neighbours in Chromium', () => {
  it('Evaluate shows the reliability diagram and the ECE of the test set', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"]').first().getByRole('button', { name: 'Latest model' }).click();
    await page.getByTestId('model-label').waitFor();
    await page.getByTestId('nav-evaluate').click();
    await page.getByTestId('reliability').waitFor({ timeout: 60_000 });
    const want = calibrationOf(truth.scores, truth.predictions, labels, 10);
    expect(await page.getByTestId('ece').textContent()).toContain(`ECE ${(100 * want.ece).toFixed(2)}%`);
    const bars = await page.locator('[data-testid="reliability"] .rel-bars rect').count();
    expect(bars).toBe(want.reliability.filter((b) => b.count > 0).length);
  });

  it('Calibrate fits T on the run’s validation images; Apply makes it the model’s', async () => {
    const { page } = app;
    await page.getByTestId('calibrate').click();
    await page.getByTestId('apply-temperature').waitFor({ timeout: 60_000 });
    const summary = (await page.getByTestId('fit-summary').textContent()) ?? '';
    expect(summary).toMatch(/the run's 300 validation images/);
    const T = Number(/T = ([\d.]+)/.exec(summary)?.[1]);
    expect(T).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="reliability"] .rel-after rect').count()).toBeGreaterThan(0);
    await shots('calibration-fit', 'calibration');
    await page.getByTestId('apply-temperature').click();
    await expect.poll(() => page.getByTestId('ece').textContent()).toContain(`at temperature ${T.toFixed(3)}`);
    await page.getByTestId('remove-temperature').waitFor();
    tempText = (await page.getByTestId('ece').textContent()) ?? '';
  });

  it('the inspector scores at the temperature, and shows the nearest training digits; a click inspects one', async () => {
    const { page } = app;
    await page.getByTestId('nav-inspect').click();
    await page.getByTestId('pick-split').selectOption('test');
    await page.getByTestId('pick-index').fill('3');
    await page.getByTestId('pick-go').click();
    await page.getByTestId('digit-source').getByText('test #3').waitFor();
    // The applied temperature: the prediction's score is the studio's raw score at T.
    const T = Number(/at temperature ([\d.]+)/.exec(tempText)![1]);
    const raw = Array.from(truth.scores.subarray(30, 40));
    const top = Math.max(...raw);
    const scaled = raw.map((v) => Math.max(v, 1e-30) ** (1 / T));
    expect(await page.getByTestId('prediction').textContent()).toContain(`${((100 * top ** (1 / T)) / scaled.reduce((a, v) => a + v, 0)).toFixed(1)}%`);
    const strip = page.getByTestId('neighbours');
    await strip.locator('[data-cell]').first().waitFor({ timeout: 60_000 });
    expect(await strip.locator('[data-cell]').count()).toBe(8);
    await shots('neighbours', 'neighbours');
    // A training digit's nearest training digit is itself, at distance 0.
    const first = strip.locator('[data-cell]').first();
    await first.click();
    await page.getByTestId('digit-source').getByText('train #').waitFor();
    const src = (await page.getByTestId('digit-source').textContent()) ?? '';
    const index = /train #([\d,]+)/.exec(src)![1];
    // (the old strip also starts with it, at its own distance: wait for the new one)
    await expect
      .poll(async () => (await strip.locator('[data-cell]').first().getAttribute('title')) ?? '', { timeout: 30_000 })
      .toMatch(new RegExp(`^train #${index.replace(/,/g, '')}: label \\d, distance 0\\.000$`));
    expect(app.problems).toEqual([]);
  });
});
