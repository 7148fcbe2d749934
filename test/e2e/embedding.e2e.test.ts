// The Embedding view as a person uses it, on the small MNIST: every test digit on the map, the
// colouring and the projection switched, a lasso drawn whose gallery holds exactly the digits
// inside it (recomputed here from the studio's own projection and the map's transform), and a
// click on a point opening that digit in Inspect. Screenshots at 1280×800 and 960×640, both themes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Projection } from '../../src/common/api';
import type { ModelPayload } from '../../src/common/records';
import { startApp, trainRun, type App } from './app';

let app: App;
let model: ModelPayload;
const TEST = 1000;

beforeAll(async () => {
  app = await startApp({ test: TEST });
  const run = await trainRun(app.host, 'lenet5-relu-ce-bn', { limit: 2000, validation: 200 });
  model = await app.host.studio.runModel(run.id, 'latest');
  const { page } = app;
  await page.getByTestId('nav-train').click();
  await page.locator('[data-testid="run-item"]').first().getByRole('button', { name: 'Latest model' }).click();
  await page.getByTestId('model-label').waitFor();
});
afterAll(async () => app?.close());

const canvas = () => app.page.getByTestId('embedding-canvas');
const attr = async (name: string): Promise<string> => (await canvas().getAttribute(name)) ?? '';

/** The map's data → CSS pixel transform, as the canvas reports it. */
async function transform(): Promise<{ scale: number; tx: number; ty: number }> {
  const [scale, tx, ty] = (await attr('data-view')).split(',').map(Number);
  return { scale, tx, ty };
}

/** Even–odd ray casting, written again here so the check does not lean on the view's own code. */
function inside(poly: [number, number][], x: number, y: number): boolean {
  let c = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < xi + ((xj - xi) * (y - yi)) / (yj - yi)) c = !c;
  }
  return c;
}

async function galleryIndices(): Promise<number[]> {
  return await app.page
    .getByTestId('embedding-gallery')
    .locator('[data-cell]')
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))));
}

describe('Embedding view in Chromium', () => {
  it('draws every test digit of the PCA map, coloured by label, with a legend that counts each class', async () => {
    const { page } = app;
    await page.keyboard.press('Control+9');
    await page.getByTestId('embedding-view').waitFor();
    await expect.poll(() => attr('data-drawn'), { timeout: 60_000 }).toBe(String(TEST));
    const truth = await app.host.studio.embeddingProjection(model, 'pca');
    expect(truth.cached).toBe(true); // the view's request made it
    for (let k = 0; k < 10; k++) {
      const n = truth.labels.filter((l) => l === k).length;
      expect(await page.getByTestId(`legend-class-${k}`).textContent()).toContain(String(n));
    }
    // Something is drawn: many pixels differ from the panel.
    const png = await canvas().screenshot();
    expect(png.length).toBeGreaterThan(5000);
    await app.shot('embedding-pca-label');
  });

  it('switches the colouring to right/wrong: the legend counts the wrong answers, and the picture changes', async () => {
    const { page } = app;
    const truth = await app.host.studio.embeddingProjection(model, 'pca');
    const wrong = Array.from(truth.labels).filter((l, i) => l !== truth.predictions[i]).length;
    const before = await canvas().screenshot();
    await page.getByTestId('colour-correct').click();
    expect(await page.getByTestId('colour-correct').getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('legend-wrong').textContent()).toContain(String(wrong));
    expect(await page.getByTestId('legend-right').textContent()).toContain(String(TEST - wrong));
    await expect.poll(async () => Buffer.compare(await canvas().screenshot(), before) !== 0).toBe(true);
    await page.getByTestId('colour-label').click();
  });

  it('a lasso selects exactly the digits inside the drawn region', async () => {
    const { page } = app;
    const truth = await app.host.studio.embeddingProjection(model, 'pca');
    const t = await transform();
    const box = (await canvas().boundingBox())!;
    // A pentagon around the middle of the map, in canvas pixels.
    const cx = box.width / 2;
    const cy = box.height / 2;
    const r = Math.min(box.width, box.height) * 0.22;
    const poly: [number, number][] = Array.from({ length: 5 }, (_, k) => [cx + r * Math.cos((2 * Math.PI * k) / 5), cy + r * Math.sin((2 * Math.PI * k) / 5)]);
    await page.mouse.move(box.x + poly[0][0], box.y + poly[0][1]);
    await page.mouse.down();
    for (const [x, y] of [...poly.slice(1), poly[0]]) await page.mouse.move(box.x + x, box.y + y, { steps: 6 });
    await page.mouse.up();
    const expected: number[] = [];
    for (let i = 0; i < truth.count; i++) if (inside(poly, truth.x[i] * t.scale + t.tx, -truth.y[i] * t.scale + t.ty)) expected.push(i);
    expect(expected.length).toBeGreaterThan(5);
    await page.getByTestId('selection-title').waitFor();
    expect(await page.getByTestId('selection-title').textContent()).toContain(`lasso: ${expected.length.toLocaleString('en-US')} digit`);
    expect(await galleryIndices()).toEqual(expected.slice(0, 120));
    await app.shot('embedding-lasso');
  });

  it('a click on a point opens that digit in Inspect', async () => {
    const { page } = app;
    const truth = await app.host.studio.embeddingProjection(model, 'pca');
    const t = await transform();
    const box = (await canvas().boundingBox())!;
    // The most isolated point on screen, so the click cannot be taken for a neighbour.
    const sx = Array.from(truth.x, (v) => v * t.scale + t.tx);
    const sy = Array.from(truth.y, (v) => -v * t.scale + t.ty);
    let best = -1;
    let bestGap = 0;
    for (let i = 0; i < truth.count; i++) {
      if (sx[i] < 10 || sy[i] < 10 || sx[i] > box.width - 10 || sy[i] > box.height - 10) continue;
      let gap = Infinity;
      for (let j = 0; j < truth.count; j++) if (j !== i) gap = Math.min(gap, Math.hypot(sx[i] - sx[j], sy[i] - sy[j]));
      if (gap > bestGap) [best, bestGap] = [i, gap];
    }
    expect(bestGap).toBeGreaterThan(2);
    await page.mouse.click(box.x + sx[best], box.y + sy[best]);
    await page.getByTestId('inspect-view').waitFor();
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toBe(`test #${best.toLocaleString('en-US')} · label ${truth.labels[best]}`);
  });

  it('switches to UMAP: progress while the worker lays it out, then every digit again; zoomed in, points become digits', async () => {
    const { page } = app;
    await page.keyboard.press('Control+9');
    await page.getByTestId('method-umap').click();
    await page.getByTestId('state-loading').waitFor();
    await expect.poll(() => page.getByTestId('embedding-summary').textContent(), { timeout: 120_000 }).toContain('UMAP');
    await expect.poll(() => attr('data-drawn')).toBe(String(TEST));
    const umap: Projection = await app.host.studio.embeddingProjection(model, 'umap');
    expect(umap.cached).toBe(true);
    await app.shot('embedding-umap');
    // The wheel zooms about the pointer: held over a digit, the map comes in around it.
    const t = await transform();
    const box = (await canvas().boundingBox())!;
    await page.mouse.move(box.x + umap.x[0] * t.scale + t.tx, box.y - umap.y[0] * t.scale + t.ty);
    for (let k = 0; k < 4; k++) await page.mouse.wheel(0, -600);
    await expect.poll(async () => Number(await attr('data-sprites'))).toBeGreaterThan(0);
    await app.shot('embedding-umap-zoomed');
    await canvas().focus();
    await page.keyboard.press('0');
    await expect.poll(() => attr('data-sprites')).toBe('0');
  });
});
