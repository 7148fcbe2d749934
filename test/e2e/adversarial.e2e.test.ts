// Adversarial digits in the Inspect view as a person uses them: a trained run's model, a test
// digit, the ε slider (the perturbed digit's prediction is the engine's in Node for the same
// FGSM), PGD, and the smallest ε that turns the digit into another class. Screenshots of the
// panel at 1280×800 and 960×640 in both themes.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attacker } from '../../src/engine/adversarial';
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
  run = await trainRun(app.host, 'lenet5-relu-ce', { limit: 4000, validation: 400 });
});
afterAll(async () => app?.close());

describe('Adversarial digits in Chromium', () => {
  it('the ε slider, the live prediction, PGD and the smallest ε', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"]').first().getByRole('button', { name: 'Latest model' }).click();
    await page.getByTestId('model-label').waitFor();
    await page.getByTestId('nav-inspect').click();
    await page.getByTestId('pick-index').fill('3');
    await page.getByTestId('pick-go').click();
    await page.getByTestId('adversarial-panel').waitFor();

    const payload = await app.host.studio.runModel(run.id, 'latest');
    const model = new Model(payload.spec, jsKernels);
    model.restore({ params: payload.params, buffers: payload.buffers });
    const a = new Attacker(model);
    const data = await loadMnist(await mnistSubset(6000, 1000));
    const x = toInput(data.test.pixels, 3 * 784, 784);
    const label = a.predict(x, 1);
    const predictedAt = (eps: number): number => a.predict(a.attack(x, label, 1, { attack: 'fgsm', eps }), 1)[0];

    for (const eps of [0, 0.1, 0.3]) {
      await page.getByTestId('adv-eps').fill(String(eps));
      await expect.poll(async () => page.getByTestId('adv-eps-value').textContent()).toBe(eps.toFixed(3));
      await expect.poll(async () => Number(await page.getByTestId('adv-predicted').textContent())).toBe(predictedAt(eps));
    }
    await page.getByTestId('adv-eps').fill('0.15');

    // The smallest ε towards another class: the engine's search gives the same number.
    const target = (label[0] + 1) % 10;
    const want = a.smallestEps(x, target, { attack: 'fgsm', steps: 10, seed: 1 });
    await page.getByTestId('adv-search-target').selectOption(String(target));
    await page.getByTestId('adv-search').click();
    const text = (await page.getByTestId('adv-search-result').textContent({ timeout: 20_000 })) ?? '';
    if (want) expect(text).toContain(`ε = ${want.eps.toFixed(4)} turns it into ${target}`);
    else expect(text).toContain(`No ε up to 1 turns it into ${target}`);

    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [w, h] of [
        [1280, 800],
        [960, 640],
      ] as const) {
        await page.setViewportSize({ width: w, height: h });
        await page.getByTestId('adversarial-panel').scrollIntoViewIfNeeded();
        await page.waitForTimeout(150);
        await page.screenshot({ path: join(SHOTS, `adversarial-${scheme}-${w}x${h}.png`) });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });

    // PGD from its random start: a prediction is shown, and nothing went wrong.
    await page.getByTestId('adv-attack').selectOption('pgd');
    await page.getByTestId('adv-steps').fill('5');
    await page.getByTestId('adv-predicted').waitFor();
    expect(await page.getByTestId('adv-error').count()).toBe(0);
    expect(app.problems).toEqual([]);
  });
});
