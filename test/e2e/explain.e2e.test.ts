// Explanations in the Inspect view as a person uses them: a trained run's model, a test digit, the
// six attribution maps side by side with the integrated-gradients completeness gap (the same
// numbers as the engine in Node), another target class, another baseline, then the sanity checks
// (randomisation maps with rank correlations, deletion/insertion areas). Screenshots of both.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPLAIN_METHODS, Explainer, modelRandomisation } from '../../src/engine/explain';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Model } from '../../src/engine/model';
import type { RunSummary } from '../../src/common/records';
import { loadMnist } from '../../src/node/datasets';
import { toInput } from '../../src/renderer/src/lib/preprocess';
import { mnistSubset } from '../helpers/mnist-subset';
import { SHOTS, startApp, trainRun, type App } from './app';

let app: App;
let run: RunSummary;

beforeAll(async () => {
  app = await startApp();
  run = await trainRun(app.host, 'lenet5-relu-ce-bn', { limit: 4000, validation: 400 });
});
afterAll(async () => app?.close());

/** The numbers of "Σ a vs score − baseline b: gap g (p %)". */
function gapNumbers(text: string): number[] {
  const m = /Σ (\S+) vs score − baseline (\S+): gap (\S+) \(/.exec(text);
  if (!m) throw new Error(`no completeness gap in "${text}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

describe('Explanations in Chromium', () => {
  it('six maps side by side, the completeness gap, another target and baseline, the sanity checks', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"]').first().getByRole('button', { name: 'Latest model' }).click();
    await page.getByTestId('model-label').waitFor();
    await page.getByTestId('nav-inspect').click();
    await page.getByTestId('pick-index').fill('3');
    await page.getByTestId('pick-go').click();
    await page.getByTestId('explain-panel').waitFor();
    for (const m of EXPLAIN_METHODS) await page.getByTestId(`explain-map-${m}`).waitFor();

    // The engine in Node on the same model and digit.
    const payload = await app.host.studio.runModel(run.id, 'latest');
    const model = new Model(payload.spec, jsKernels);
    model.restore({ params: payload.params, buffers: payload.buffers });
    const ex = new Explainer(model);
    const data = await loadMnist(await mnistSubset(6000, 1000));
    const x = toInput(data.test.pixels, 3 * 784, 784);
    const predicted = ex.predict(x);
    const check = async (target: number, baseline: 'black' | 'blur'): Promise<void> => {
      const want = ex.explain('ig', x, target, { steps: 64, baseline });
      await expect
        .poll(async () => {
          const [sum, delta] = gapNumbers((await page.getByTestId('ig-gap').textContent()) ?? '');
          return (
            Math.abs(delta - (want.score - want.baselineScore!)) < 1e-3 * Math.max(1, Math.abs(delta)) && Math.abs(sum - (delta + want.completenessGap!)) < 2e-3
          );
        })
        .toBe(true);
      const [, , gap] = gapNumbers((await page.getByTestId('ig-gap').textContent()) ?? '');
      expect(Math.abs(gap - want.completenessGap!)).toBeLessThan(1e-3); // the gap shown is the engine's
    };
    await check(predicted, 'black');
    await page.getByTestId('explain-panel').screenshot({ path: join(SHOTS, 'explain-panel.png') });

    const other = (predicted + 1) % 10;
    await page.getByTestId('explain-target').selectOption({ label: String(other) });
    await check(other, 'black');
    await page.getByTestId('param-baseline').selectOption('blur');
    await check(other, 'blur');
    await page.getByTestId('explain-target').selectOption({ index: 0 });
    await page.getByTestId('param-baseline').selectOption('black');
    await check(predicted, 'black');

    // A parameter out of range is named, and the maps stay as they were.
    await page.getByTestId('param-steps').fill('0');
    await page.getByTestId('explain-invalid').waitFor();
    await page.getByTestId('param-steps').fill('64');

    await page.getByTestId('run-sanity').click();
    await page.getByTestId('sanity-randomisation').waitFor();
    const want = modelRandomisation(ex, x, predicted, EXPLAIN_METHODS, { steps: 64, layer: 'conv2' });
    for (const s of want.steps) {
      for (const m of ['gradient', 'ig'] as const) {
        const cell = await page.getByTestId(`rank-${s.layer}-${m}`).textContent();
        expect(Math.abs(Number(cell) - s.rank[m]!), `${s.layer} ${m}`).toBeLessThanOrEqual(0.011);
      }
    }
    for (const m of EXPLAIN_METHODS) {
      const del = Number(await page.getByTestId(`auc-del-${m}`).textContent());
      const ins = Number(await page.getByTestId(`auc-ins-${m}`).textContent());
      expect(del).toBeGreaterThanOrEqual(0);
      expect(ins).toBeLessThanOrEqual(1);
    }
    const size = page.viewportSize();
    await page.setViewportSize({ width: 1280, height: 2000 }); // the whole check, clear of the sticky header
    await page.getByTestId('sanity-panel').screenshot({ path: join(SHOTS, 'explain-sanity.png') });
    if (size) await page.setViewportSize(size);

    // Another digit: its maps replace the old ones and the old digit's checks go away.
    await page.getByTestId('next-digit').click();
    await page.getByTestId('sanity-panel').waitFor({ state: 'detached' });
    const x4 = toInput(data.test.pixels, 4 * 784, 784);
    const want4 = ex.explain('ig', x4, ex.predict(x4), { steps: 64 });
    await expect.poll(async () => Math.abs(gapNumbers((await page.getByTestId('ig-gap').textContent()) ?? '')[2] - want4.completenessGap!) < 1e-3).toBe(true);
    model.dispose();
    expect(app.problems).toEqual([]);
  });
});
