// The Inspect view as a person uses it: load a run's model, pick a test digit and see its class
// scores, every layer's activations on one labelled scale, the kernels and the saliency map;
// step to the next digit with the keyboard; draw digits on the pad and watch the prediction
// follow the pen; save a feature-map grid as PNG; the same in the dark theme.

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../src/engine/model';
import { loadMnist } from '../../src/node/datasets';
import type { RunSummary } from '../../src/common/records';
import { Inspector } from '../../src/renderer/src/lib/inspector';
import { toInput } from '../../src/renderer/src/lib/preprocess';
import { mnistSubset } from '../helpers/mnist-subset';
import { startApp, trainRun, type App } from './app';
import { jsKernels } from '../../src/engine/kernels/js/backend';

let app: App;
let run: RunSummary;

beforeAll(async () => {
  app = await startApp();
  run = await trainRun(app.host, 'lenet5-relu-ce-bn', { limit: 4000, validation: 400 });
});
afterAll(async () => app?.close());

/** Draws a polyline on the pad in pad coordinates (0..224), checking the prediction is live mid-stroke. */
async function stroke(points: [number, number][], liveCheck?: () => Promise<void>): Promise<void> {
  const box = (await app.page.getByTestId('draw-pad').boundingBox())!;
  const { mouse } = app.page;
  await mouse.move(box.x + points[0][0], box.y + points[0][1]);
  await mouse.down();
  for (const [i, [x, y]] of points.entries()) {
    await mouse.move(box.x + x, box.y + y, { steps: 4 });
    if (liveCheck && i === Math.floor(points.length / 2)) await liveCheck();
  }
  await mouse.up();
}

const circle = (cx: number, cy: number, rx: number, ry: number): [number, number][] =>
  Array.from({ length: 33 }, (_, i) => [cx + rx * Math.cos((i / 32) * 2 * Math.PI), cy + ry * Math.sin((i / 32) * 2 * Math.PI)]);

describe('Inspect view in Chromium', () => {
  it('shows the empty state until there is a model', async () => {
    await app.page.getByTestId('nav-inspect').click();
    await app.page.getByTestId('state-empty').getByText('No model to inspect').waitFor();
  });

  it('a test digit: scores, activations of every layer, kernels, saliency — as the engine computes them', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"]').first().getByRole('button', { name: 'Latest model' }).click();
    await page.getByTestId('model-label').waitFor();
    await page.getByTestId('nav-inspect').click();
    await page.getByTestId('state-empty').getByText('No digit yet').waitFor();

    await page.getByTestId('pick-index').fill('3');
    await page.getByTestId('pick-go').click();
    await page.getByTestId('scores').waitFor();
    expect(await page.getByTestId('digit-source').textContent()).toMatch(/test #3 · label \d/);

    // What the engine says about the same digit, here in Node.
    const payload = await app.host.studio.runModel(run.id, 'latest');
    const data = await loadMnist(await mnistSubset(6000, 1000));
    const ref = new Inspector(payload, jsKernels).inspect(toInput(data.test.pixels, 3 * 784, 784));
    expect(Number(await page.getByTestId('predicted').textContent())).toBe(ref.predicted);
    expect(Number(await page.getByTestId('scores').getAttribute('data-predicted'))).toBe(ref.predicted);

    // One canvas per layer but flatten, sized by its shape, and the shared labelled scale.
    const layers = new Model(payload.spec, jsKernels).layers.filter((l) => l.kind !== 'flatten').map((l) => l.name);
    for (const name of layers) await expect.poll(() => page.getByTestId(`act-${name}`).count()).toBe(1);
    const conv1 = await page.getByTestId('act-conv1').evaluate((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
    expect(conv1[0]).toBeGreaterThan(6 * 28); // six 28×28 maps side by side, scaled up
    // Each layer on its own scale by default; one shared scale on demand.
    expect(await page.getByTestId('activations').getByTestId('color-scale').textContent()).toMatch(/each layer/);
    await page.getByTestId('scale-shared').click();
    const legend = await page.getByTestId('activations').getByTestId('color-scale').textContent();
    expect(legend).toMatch(/every layer/);
    const lo = Math.min(0, ...ref.activations.map((a) => a.min));
    const hi = Math.max(0, ...ref.activations.map((a) => a.max));
    const m = Math.max(-lo, hi);
    expect(legend).toContain(m.toFixed(3));

    await expect.poll(() => page.getByTestId('kernels-conv2').count()).toBe(1);
    const k2 = await page.getByTestId('kernels-conv2').evaluate((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
    expect(k2[0]).toBeGreaterThan(k2[1]); // 16 outputs across, 6 inputs down
    await page.getByTestId('saliency').waitFor();

    // Per-layer scales change the legend.
    await page.getByTestId('scale-layer').click();
    expect(await page.getByTestId('activations').getByTestId('color-scale').textContent()).toMatch(/each layer/);
    await app.shot('inspect-digit');

    // Statistics beside each map, as the engine's numbers give them.
    const relu1 = ref.activations.find((a) => a.kind === 'activation')!;
    const stats = await page.getByTestId(`stats-${relu1.name}`).textContent();
    expect(stats).toContain(`zeros${(100 * relu1.zeros).toFixed(1)}%`);
    expect(stats).toContain(`mean${relu1.mean.toFixed(3)}`);
  });

  it('a click on a conv map enlarges it and takes a cell apart: patch × kernel + bias = the output there', async () => {
    const { page } = app;
    const payload = await app.host.studio.runModel(run.id, 'latest');
    const data = await loadMnist(await mnistSubset(6000, 1000));
    const ins = new Inspector(payload, jsKernels);
    const ref = ins.inspect(toInput(data.test.pixels, 3 * 784, 784));
    const conv2 = ref.activations.find((a) => a.name === 'conv2')!;
    const [, OH, OW] = conv2.shape;
    // Map 4 of conv2: click the middle of its tile in the grid.
    const box = (await page.getByTestId('act-conv2').boundingBox())!;
    const size = await page.getByTestId('act-conv2').evaluate((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
    // The grid's layout (LayerMaps): square tiles of OW × cell pixels, 4 px apart, in rows.
    const tile = OW * Math.max(1, Math.min(10, Math.floor(56 / Math.max(OH, OW))));
    const cols = Math.round((size[0] + 4) / (tile + 4));
    const [tx, ty] = [(4 % cols) * (tile + 4) + tile / 2, Math.floor(4 / cols) * (tile + 4) + tile / 2];
    await page.getByTestId('act-conv2').click({ position: { x: tx * (box.width / size[0]), y: ty * (box.height / size[1]) } });
    await page.getByTestId('map-detail').waitFor();
    expect(await page.getByTestId('map-detail').textContent()).toContain('conv2 · map 4');
    const cell = { y: OH >> 1, x: OW >> 1 };
    const engine = conv2.data[(4 * OH + cell.y) * OW + cell.x];
    const b = page.getByTestId('conv-breakdown');
    await b.waitFor();
    expect(Math.abs(Number(await b.getAttribute('data-value')) - engine)).toBeLessThan(1e-5 * Math.max(1, Math.abs(engine)));
    expect(Number(await b.getAttribute('data-value'))).toBeCloseTo(Number(await b.getAttribute('data-sum')) + Number(await b.getAttribute('data-bias')), 6);
    // conv2 reads the input maps its C3 column connects, one row each.
    const expected = ins.convBreakdown(ref, 'conv2', 4, cell.y, cell.x);
    expect(await b.locator('.cb-row').count()).toBe(expected.channels.length);
    // Arrow keys move the picked cell; the breakdown follows.
    await page.getByTestId('map-detail-canvas').focus();
    await page.keyboard.press('ArrowRight');
    const next = conv2.data[(4 * OH + cell.y) * OW + cell.x + 1];
    await expect.poll(async () => Math.abs(Number(await b.getAttribute('data-value')) - next)).toBeLessThan(1e-5 * Math.max(1, Math.abs(next)));
    expect(await page.getByTestId('digit-source').textContent()).toMatch(/test #3 /);
    await app.shot('inspect-conv-breakdown');
    // The next map, same cell.
    await page.getByTestId('map-next').click();
    await expect.poll(() => page.getByTestId('map-detail').textContent()).toContain('conv2 · map 5');
    const five = conv2.data[(5 * OH + cell.y) * OW + cell.x + 1];
    await expect.poll(async () => Math.abs(Number(await b.getAttribute('data-value')) - five)).toBeLessThan(1e-5 * Math.max(1, Math.abs(five)));
    await page.getByTestId('map-detail-close').click();
    await page.getByTestId('map-detail').waitFor({ state: 'detached' });
    // From the keyboard: Enter on a layer's maps opens its first.
    await page.getByTestId('act-conv1').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('map-detail').textContent()).toContain('conv1 · map 0');
    await page.getByTestId('map-detail-close').click();
    ins.dispose();
  });

  it('→ steps to the next digit; S hides the saliency map', async () => {
    const { page } = app;
    await page.locator('body').press('ArrowRight');
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toMatch(/test #4 /);
    await page.locator('body').press('ArrowLeft');
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toMatch(/test #3 /);
    await page.locator('body').press('s');
    await page.getByTestId('saliency').waitFor({ state: 'detached' });
    await page.locator('body').press('s');
    await page.getByTestId('saliency').waitFor();
  });

  it('saves the conv1 feature maps and the class scores as PNGs', async () => {
    const { page } = app;
    const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    const [maps] = await Promise.all([page.waitForEvent('download'), page.getByTestId('layer-row-conv1').getByTestId('save-png').click()]);
    expect(maps.suggestedFilename()).toBe('conv1-activations.png');
    expect([...(await readFile((await maps.path())!)).subarray(0, 8)]).toEqual(PNG);
    const [scores] = await Promise.all([page.waitForEvent('download'), page.locator('.scores-card').getByTestId('save-png').click()]);
    expect(scores.suggestedFilename()).toBe('class-scores.png');
    expect([...(await readFile((await scores.path())!)).subarray(0, 8)]).toEqual(PNG);
  });

  it('draws digits: the prediction is live while drawing and follows the drawing', async () => {
    const { page } = app;
    // A vertical bar: a "1".
    let midStroke: string | null = null;
    await stroke(
      Array.from({ length: 12 }, (_, i) => [112 + i * 1.5, 30 + i * 15] as [number, number]),
      async () => {
        await expect.poll(() => page.getByTestId('digit-source').textContent()).toMatch(/your drawing/);
        midStroke = await page.getByTestId('predicted').textContent();
      },
    );
    expect(midStroke).not.toBeNull();
    const one = await page.getByTestId('predicted').textContent();
    const oneScores = await page
      .getByTestId('scores')
      .locator('li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('title')));
    await app.shot('inspect-drawn-1');

    // Clear (Delete), then a ring: a "0".
    await page.locator('body').press('Delete');
    await page.getByTestId('state-empty').getByText('No digit yet').waitFor();
    await stroke(circle(112, 112, 55, 80));
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toMatch(/your drawing/);
    const zero = await page.getByTestId('predicted').textContent();
    const zeroScores = await page
      .getByTestId('scores')
      .locator('li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('title')));
    expect(zeroScores).not.toEqual(oneScores);
    expect(zero).not.toBe(one);
    expect({ one, zero }).toEqual({ one: '1', zero: '0' });
    await app.shot('inspect-drawn-0');
  });

  it('reads well in the dark theme', async () => {
    await app.page.emulateMedia({ colorScheme: 'dark' });
    await app.page.getByTestId('pick-go').click();
    await app.page.getByTestId('scores').waitFor();
    await app.shot('inspect-dark');
    await app.page.emulateMedia({ colorScheme: 'light' });
    expect(app.problems).toEqual([]);
  });
});
