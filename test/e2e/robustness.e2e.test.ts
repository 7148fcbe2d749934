// Accuracy against ε in Compare: a plain run and an adversarially trained one, overlaid; each
// curve is the engine's (robustAccuracy in Node on the same model and test images), computed by
// the backend once per model (a second ask returns the cached curve). Screenshots of the chart at
// 1280×800 and 960×640 in both themes.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROBUSTNESS_EPS, ROBUSTNESS_IMAGES } from '../../src/common/api';
import type { RunSummary } from '../../src/common/records';
import { robustAccuracy } from '../../src/engine/adversarial';
import { Model } from '../../src/engine/model';
import { loadMnist } from '../../src/node/datasets';
import { loadKernels } from '../../src/node/load-kernels';
import { mnistSubset } from '../helpers/mnist-subset';
import { SHOTS, startApp, trainRun, type App } from './app';

let app: App;
let plain: RunSummary;
let adv: RunSummary;

beforeAll(async () => {
  app = await startApp();
  plain = await trainRun(app.host, 'lenet5-relu-ce', { limit: 4000, validation: 400 });
  adv = await trainRun(app.host, 'lenet5-relu-ce', { limit: 4000, validation: 400, adversarial: { attack: 'fgsm', eps: 0.05 } });
});
afterAll(async () => app?.close());

describe('Accuracy against ε in Compare', () => {
  it('overlays the runs’ curves, the engine’s numbers, cached per model', async () => {
    const { page } = app;
    await page.getByTestId('nav-compare').click();
    await page.getByTestId(`pick-${plain.id}`).check();
    await page.getByTestId(`pick-${adv.id}`).check();
    const chart = page.getByTestId('compare-robustness-chart');
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 60_000 }).toBe(2 * ROBUSTNESS_EPS.length);

    const data = await loadMnist(await mnistSubset(6000, 1000));
    for (const r of [plain, adv]) {
      const payload = await app.host.studio.runModel(r.id, 'latest');
      const model = new Model(payload.spec, loadKernels().kernels);
      model.restore({ params: payload.params, buffers: payload.buffers });
      const want = robustAccuracy(model, data.test, [...ROBUSTNESS_EPS], { attack: 'fgsm' }, ROBUSTNESS_IMAGES);
      const t0 = performance.now();
      const got = await app.host.studio.runRobustness(r.id, 'fgsm');
      expect(performance.now() - t0).toBeLessThan(1000); // the cached curve, not a new computation
      // Kernels of another build than the trainer's may round a digit on the edge the other way:
      // allow one image in a thousand.
      got.points.forEach((p, i) => {
        expect(p.eps).toBe(want[i].eps);
        expect(Math.abs(p.accuracy - want[i].accuracy)).toBeLessThanOrEqual(1 / ROBUSTNESS_IMAGES + 1e-12);
      });
    }

    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [w, h] of [
        [1280, 800],
        [960, 640],
      ] as const) {
        await page.setViewportSize({ width: w, height: h });
        await page.getByTestId('compare-robustness').scrollIntoViewIfNeeded();
        await page.waitForTimeout(300);
        await page.screenshot({ path: join(SHOTS, `robustness-${scheme}-${w}x${h}.png`) });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await page.getByTestId('diff-adversarial').locator('td').allTextContents()).toEqual(['none', 'fgsm:0.05']);
    expect(app.problems).toEqual([]);
  });
});
