// The Model view as a person uses it: before any model it shows the preset the next run trains;
// after File → Open of a saved .lenet it shows that model's layers, shapes, parameters and
// multiply-adds, and the C3 connection table as a 6×16 grid; a layer opens in the inspector.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../src/engine/model';
import { LECUN_C3_TABLE } from '../../src/engine/presets';
import { saveRunModel, startApp, trainRun, type App } from './app';
import { jsKernels } from '../../src/engine/kernels/js/backend';

let app: App;
let file: string;

beforeAll(async () => {
  app = await startApp();
  const run = await trainRun(app.host, 'lenet5-tanh-mse', { limit: 1000, validation: 100 });
  ({ path: file } = await saveRunModel(app, run.id, 'tanh.lenet'));
});
afterAll(async () => app?.close());

describe('Model view in Chromium', () => {
  it('without a model: the architecture of the preset chosen for the next run', async () => {
    const { page } = app;
    await page.getByTestId('nav-model').click();
    await expect.poll(() => page.getByTestId('model-note').textContent()).toMatch(/No model yet: this is the preset the next run trains/);
    await page.getByTestId('layer-bn1').waitFor(); // lenet5-relu-ce-bn, the default preset
  });

  it('opens a saved model (File → Open): layers, shapes, parameters, multiply-adds', async () => {
    const { page } = app;
    app.host.dialogAnswers.push(file);
    await page.getByTestId('model').getByRole('button', { name: 'Open…' }).click();
    await expect.poll(() => page.getByTestId('model-label').textContent()).toContain('tanh.lenet');
    await expect.poll(() => page.getByTestId('model-note').textContent()).toContain('The model on screen: tanh.lenet');

    const model = new Model((await app.host.studio.openModelPath(file)).spec, jsKernels);
    const totals = await page.getByTestId('model-totals').textContent();
    expect(totals).toContain(`${model.parameterCount.toLocaleString('en-US')} parameters`);
    const rows = await page
      .getByTestId('layer-table')
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent?.trim())));
    expect(rows.map((r) => r[0])).toEqual(model.layers.map((l) => l.name));
    expect(rows.map((r) => r[2])).toEqual(model.layers.map((l) => l.outShape.join('×')));
    expect(rows.find((r) => r[0] === 'conv2')).toEqual(['conv2', '16 filters 5×5, connection table', '16×10×10', '1,516', '150,000']);
    const foot = await page.getByTestId('layer-table').locator('tfoot td').allTextContents();
    expect(foot).toEqual(['total', model.parameterCount.toLocaleString('en-US'), model.macs.toLocaleString('en-US')]);
  });

  it('shows the C3 table as a 6×16 grid, LeCun’s Table 1', async () => {
    const grid = await app.page
      .getByTestId('c3-table')
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => Number(td.getAttribute('data-on')))));
    expect(grid).toEqual(LECUN_C3_TABLE);
    await app.shot('model-view');
  });

  it('a layer of the diagram opens in the inspector, scrolled to it', async () => {
    const { page } = app;
    await page.getByTestId('layer-conv2').click();
    await page.getByTestId('inspect-view').waitFor();
    await page.locator('#layer-conv2-kernels.focused').waitFor();
    expect(await page.locator('#layer-conv2-kernels').isVisible()).toBe(true);
    await page.getByTestId('kernels-conv2').waitFor();
    await app.shot('model-open-layer');
  });

  it('the keyboard walks the diagram', async () => {
    const { page } = app;
    await page.getByTestId('nav-model').click();
    await page.getByTestId('layer-conv1').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('layer-pool1');
    await page.keyboard.press('Enter');
    await page.getByTestId('inspect-view').waitFor();
    expect(app.problems).toEqual([]);
  });
});
