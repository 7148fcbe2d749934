// The engine's WebAssembly SIMD kernels in the test browser: the renderer loads them
// under the app's strict CSP, checks them against the TypeScript GEMM, and the inspector runs a
// digit with them, getting the same class scores as the TypeScript kernels compute in Node for
// the same model and digit. Chromium takes the relaxed-SIMD build; without relaxed SIMD the
// renderer uses the plain SIMD one, and without SIMD the TypeScript kernels.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/node/datasets';
import type { ModelPayload } from '../../src/common/records';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { Inspector } from '../../src/renderer/src/lib/inspector';
import { toInput } from '../../src/renderer/src/lib/preprocess';
import { mnistSubset } from '../helpers/mnist-subset';
import { saveRunModel, startApp, trainRun, type App } from './app';
import { installStudioShim } from './browser';

let app: App;
let file: string;
let model: ModelPayload;

beforeAll(async () => {
  app = await startApp();
  const run = await trainRun(app.host, 'lenet5-relu-ce-bn');
  ({ path: file, model } = await saveRunModel(app, run.id, 'kernels.lenet'));
});
afterAll(async () => app?.close());

/** Scores the page shows (exact values from the bars' tooltips). */
async function pageScores(app: App): Promise<number[]> {
  const titles = await app.page
    .getByTestId('scores')
    .locator('li')
    .evaluateAll((lis) => lis.map((li) => li.getAttribute('title') ?? ''));
  return titles.map((t) => Number(/score ([-\d.e]+)/.exec(t)?.[1]));
}

async function openModel(app: App): Promise<void> {
  app.host.dialogAnswers.push(file);
  await app.page.getByTestId('model').getByRole('button', { name: 'Open…' }).click();
  await app.page.getByTestId('model-label').waitFor();
}

describe('wasm kernels in Chromium', () => {
  it('load under the CSP, pass the self-check and run the inspector', async () => {
    const { page } = app;
    await page.getByTestId('nav-inspect').click();
    // Chromium accepts relaxed SIMD by default: the fused multiply-add build loads.
    await page.locator('[data-testid="renderer-kernels"][data-kernels="wasm-relaxed-simd"]').waitFor();
    const check = await page.getByTestId('renderer-kernels').getAttribute('title');
    expect(Number(/max difference ([-\d.e]+)/.exec(check ?? '')?.[1])).toBeLessThan(1e-4);

    await openModel(app);
    await page.getByTestId('pick-index').fill('7');
    await page.getByTestId('pick-go').click();
    await page.locator('[data-testid="timing"][data-kernels="wasm-relaxed-simd"]').waitFor();

    // The same digit through the same model with the TypeScript kernels, here in Node.
    const data = await loadMnist(await mnistSubset(6000, 1000));
    const ref = new Inspector(model, jsKernels).inspect(toInput(data.test.pixels, 7 * 784, 784));
    const shown = await pageScores(app);
    expect(shown).toHaveLength(10);
    for (let k = 0; k < 10; k++) expect(Math.abs(shown[k] - ref.scores[k]), `class ${k}`).toBeLessThan(1e-5);
    expect(Number(await page.getByTestId('predicted').textContent())).toBe(ref.predicted);
    await app.shot('kernels-wasm');
    expect(app.problems).toEqual([]);
  });

  it('use the plain SIMD build where relaxed SIMD is missing, with the same scores', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => problems.push(e.message));
    // A browser without relaxed SIMD: modules holding f32x4.relaxed_madd (0xfd 0x105) do not validate.
    await page.addInitScript(() => {
      const validate = WebAssembly.validate.bind(WebAssembly);
      WebAssembly.validate = (bytes: BufferSource): boolean => {
        const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let i = 0; i + 2 < b.length; i++) if (b[i] === 0xfd && b[i + 1] === 0x85 && b[i + 2] === 0x02) return false;
        return validate(bytes);
      };
    });
    await installStudioShim(page);
    await page.goto(app.host.url);
    await page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor();
    await page.getByTestId('nav-inspect').click();
    await page.locator('[data-testid="renderer-kernels"][data-kernels="wasm-simd"]').waitFor();
    const check = await page.getByTestId('renderer-kernels').getAttribute('title');
    expect(Number(/max difference ([-\d.e]+)/.exec(check ?? '')?.[1])).toBeLessThan(1e-4);
    app.host.dialogAnswers.push(file);
    await page.getByTestId('model').getByRole('button', { name: 'Open…' }).click();
    await page.getByTestId('model-label').waitFor();
    await page.getByTestId('pick-index').fill('7');
    await page.getByTestId('pick-go').click();
    await page.locator('[data-testid="timing"][data-kernels="wasm-simd"]').waitFor();
    const data = await loadMnist(await mnistSubset(6000, 1000));
    const ref = new Inspector(model, jsKernels).inspect(toInput(data.test.pixels, 7 * 784, 784));
    const shown = await pageScores({ ...app, page });
    expect(shown).toHaveLength(10);
    for (let k = 0; k < 10; k++) expect(Math.abs(shown[k] - ref.scores[k]), `class ${k}`).toBeLessThan(1e-5);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('fall back to the TypeScript kernels where WebAssembly SIMD is missing', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => problems.push(e.message));
    // A browser without SIMD: the probe module does not validate.
    await page.addInitScript(() => {
      WebAssembly.validate = () => false;
    });
    await installStudioShim(page);
    await page.goto(app.host.url);
    await page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor();
    await page.getByTestId('nav-inspect').click();
    await page.locator('[data-testid="renderer-kernels"][data-kernels="js"]').waitFor();
    expect(await page.getByTestId('renderer-kernels').textContent()).toMatch(/no WebAssembly SIMD/);
    app.host.dialogAnswers.push(file);
    await page.getByTestId('model').getByRole('button', { name: 'Open…' }).click();
    await page.getByTestId('pick-go').click();
    await page.locator('[data-testid="timing"][data-kernels="js"]').waitFor();
    expect(problems).toEqual([]);
    await page.close();
  });
});
