// What units want, in Chromium: in the Model view a run's model shows, per conv filter, the image
// gradient ascent makes for it (computed by a worker, with progress) and the test digits that
// drive it highest — the same digits the engine ranks in Node; the classes' digits open in the
// inspector, where ← → step through that unit's list; the Inspect view shows the same units
// beside the kernels at once (kept per model). Photographed at both sizes in both themes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelPayload } from '../../src/common/records';
import { Explainer } from '../../src/engine/explain';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Model } from '../../src/engine/model';
import { topImages } from '../../src/engine/unit-viz';
import { loadMnist } from '../../src/node/datasets';
import { mnistSubset } from '../helpers/mnist-subset';
import { startApp, trainRun, type App } from './app';

let app: App;
let model: ModelPayload;

beforeAll(async () => {
  app = await startApp({ test: 1000 });
  const run = await trainRun(app.host, 'lenet5-relu-ce', { limit: 2000, validation: 200 });
  model = await app.host.studio.runModel(run.id, 'latest');
});
afterAll(async () => app?.close());

/** The test-digit indices a unit's card offers, in order. */
async function topDigits(unit: number): Promise<number[]> {
  const labels = await app.page
    .getByTestId(`unit-top-${unit}`)
    .getByRole('button')
    .evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label') ?? ''));
  return labels.map((l) => Number(/test digit (\d+)/.exec(l)?.[1]));
}

async function shoot(name: string): Promise<void> {
  const { page } = app;
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const size of [
      { width: 1280, height: 800 },
      { width: 960, height: 640 },
    ]) {
      await page.setViewportSize(size);
      await page.getByTestId('unit-viz').scrollIntoViewIfNeeded();
      await page.waitForTimeout(200);
      await app.shot(`${name}-${size.width}x${size.height}-${scheme}`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe('what units want, in Chromium', () => {
  it('Model view: each conv1 filter’s image and the test digits that drive it highest, as the engine ranks them', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"]').first().getByRole('button', { name: 'Latest model' }).click();
    await page.getByTestId('model-label').waitFor();
    await page.getByTestId('nav-model').click();
    await page.getByTestId('unit-start').click();
    // Progress while the worker ranks 1,000 test digits and maximises six filters.
    await page.getByTestId('unit-progress').waitFor();
    await page.getByTestId('unit-grid').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('unit-grid').locator('figure').count()).toBe(6);
    expect(await page.getByTestId('unit-layer-conv1').getAttribute('aria-pressed')).toBe('true');
    // The maximising images are drawn: some ink, not all of it.
    const ink = await page
      .getByTestId('unit-0')
      .locator('canvas')
      .first()
      .evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let on = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 128) on++;
        return on / (d.length / 4);
      });
    expect(ink).toBeGreaterThan(0.02);
    expect(ink).toBeLessThan(0.98);

    // The same ranking in Node, with the TypeScript kernels, over the same 1,000 test digits.
    const data = await loadMnist(await mnistSubset(6000, 1000));
    const m = new Model(model.spec, jsKernels);
    m.restore({ params: model.params, buffers: model.buffers });
    const ref = topImages(new Explainer(m), data.test.pixels, data.test.count, 6);
    for (const [li, layer] of [
      [0, 'conv1'],
      [4, 'fc3'],
    ] as const) {
      if (layer === 'fc3') {
        await shoot('unit-viz-model');
        await page.getByTestId('unit-layer-fc3').click();
        await page.getByTestId('unit-9').waitFor({ timeout: 60_000 });
      }
      for (const u of layer === 'conv1' ? [0, 3, 5] : [1, 3, 8]) {
        expect(await topDigits(u), `${layer} unit ${u}`).toEqual(Array.from(ref[li].index.subarray(u * 6, (u + 1) * 6)));
      }
    }
    expect(app.problems).toEqual([]);
  });

  it('a class’s top digit opens in the inspector, with the class’s list to step through; Inspect shows the units beside the kernels', async () => {
    const { page } = app;
    const digits = await topDigits(3);
    await page.getByTestId('unit-top-3').getByRole('button').first().click();
    await page.getByTestId('inspect-view').waitFor();
    await page.getByTestId('scores').waitFor();
    expect(await page.getByTestId('digit-source').textContent()).toContain(`test #${digits[0]}`);
    expect(await page.getByTestId('sequence').textContent()).toBe(`1 of ${digits.length} in “top test digits of fc3 class 3”`);
    // The digit that drives class 3's score highest is predicted 3.
    expect(await page.getByTestId('predicted').textContent()).toBe('3');
    await page.getByTestId('next-digit').click();
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toContain(`test #${digits[1]}`);

    // Kept for this model: the Inspect view shows fc3's units at once, after the kernels.
    const section = page.getByTestId('unit-viz');
    await section.getByTestId('unit-grid').waitFor();
    expect(await section.locator('figure').count()).toBe(10);
    const [kernels, units] = [(await page.getByTestId('kernels').boundingBox())!, (await section.boundingBox())!];
    expect(units.y).toBeGreaterThan(kernels.y);
    await shoot('unit-viz-inspect');
    expect(app.problems).toEqual([]);
  });
});
