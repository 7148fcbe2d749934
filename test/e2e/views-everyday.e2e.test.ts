// Everyday use of the charts and the inspector, as a person trips over it: an empty chart shows
// its message without axes drawn through it; the batch-loss curve seen live is the curve seen
// when the run is opened again from disk; Inspect's index box always names the digit on screen.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PRESETS } from '../../src/engine/presets';
import { buildRunConfig } from '../../src/node/runs/config';
import { createRun, newRunId, writeRunStatus } from '../../src/node/runs/folder';
import { QUICK, startApp, trainRun, type App } from './app';

let app: App;

beforeAll(async () => {
  app = await startApp({ test: 400 });
});
afterAll(async () => app?.close());

/**
 * For each chart: whether its empty-state message is shown, and how many drawn (non-transparent)
 * canvas pixels lie under the message's box.
 */
async function emptyOverlaps(page: Page, ids: string[]): Promise<Record<string, { shown: boolean; inked: number }>> {
  return page.evaluate((ids) => {
    const out: Record<string, { shown: boolean; inked: number }> = {};
    for (const id of ids) {
      const fig = document.querySelector(`[data-testid="${id}"]`);
      const msg = fig?.querySelector('.empty') as HTMLElement | null;
      const canvas = fig?.querySelector('canvas') as HTMLCanvasElement | null;
      if (!fig || !canvas) throw new Error(`no chart ${id}`);
      if (!msg || msg.offsetParent === null) {
        out[id] = { shown: false, inked: 0 };
        continue;
      }
      const c = canvas.getBoundingClientRect();
      const m = msg.getBoundingClientRect();
      const sx = canvas.width / c.width;
      const sy = canvas.height / c.height;
      const x0 = Math.max(0, Math.floor((Math.max(m.left, c.left) - c.left) * sx));
      const x1 = Math.min(canvas.width, Math.ceil((Math.min(m.right, c.right) - c.left) * sx));
      const y0 = Math.max(0, Math.floor((Math.max(m.top, c.top) - c.top) * sy));
      const y1 = Math.min(canvas.height, Math.ceil((Math.min(m.bottom, c.bottom) - c.top) * sy));
      let inked = 0;
      if (x1 > x0 && y1 > y0) {
        const px = canvas.getContext('2d')!.getImageData(x0, y0, x1 - x0, y1 - y0).data;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) inked++;
      }
      out[id] = { shown: true, inked };
    }
    return out;
  }, ids);
}

/** The loss points the Train view holds for its chart (the metrics store, through the app's Pinia). */
async function lossPoints(page: Page): Promise<{ x: number; y: number }[]> {
  return page.evaluate(() => {
    const app = (
      document.querySelector('#app') as unknown as {
        __vue_app__: { config: { globalProperties: { $pinia: { _s: Map<string, { loss: { x: number; y: number }[] }> } } } };
      }
    ).__vue_app__;
    return app.config.globalProperties.$pinia._s.get('metrics')!.loss.map((p) => ({ x: p.x, y: p.y }));
  });
}

const lossPixels = (page: Page): Promise<string> =>
  page
    .getByTestId('loss-chart')
    .locator('canvas')
    .evaluate((c) => (c as HTMLCanvasElement).toDataURL());

describe('charts and inspector in everyday use', () => {
  it('an empty chart shows its message with nothing drawn under it', async () => {
    const { page, host } = app;
    // A run that failed before its first batch: picked from the list, its charts have nothing to draw.
    const id = newRunId('lenet5-relu-ce');
    const dir = join(host.studio.runsDir, id);
    const preset = PRESETS['lenet5-relu-ce'];
    await createRun(dir, buildRunConfig({ id, preset, settings: { ...QUICK }, dataset: await host.studio.dataset() }));
    await writeRunStatus(dir, { status: 'failed', reason: 'the trainer could not start' });
    await page.reload();
    await page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor();
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"][data-status="failed"]').first().click();
    const ids = ['loss-chart', 'accuracy-chart', 'epoch-loss-chart', 'lr-chart'];
    await page.getByTestId('loss-chart').locator('canvas').waitFor();
    const got = await emptyOverlaps(page, ids);
    await app.shot('everyday-empty-charts');
    for (const id of ids) expect({ id, ...got[id] }).toEqual({ id, shown: true, inked: 0 });
  });

  it('the live batch-loss curve is the curve reloaded from disk, drawn the same', async () => {
    const { page } = app;
    await page.getByTestId('preset').selectOption('lenet5-relu-ce');
    await page.getByTestId('epochs').fill('2');
    await page.getByTestId('batch').fill('8');
    await page.getByTestId('limit').fill('3000');
    await page.getByTestId('validation').fill('150');
    await page.getByTestId('start').click();
    await page.locator('[data-testid="run-controls"][data-state="done"]').waitFor({ timeout: 180_000 });
    await expect.poll(() => page.getByTestId('epoch-loss-chart').getAttribute('data-points')).not.toBe('0');
    const live = await lossPoints(page);
    expect(live.length).toBeGreaterThan(3);
    const livePixels = await lossPixels(page);

    // Open the run again from its folder, as after a restart.
    await page.getByTestId('run-item').first().click();
    await expect.poll(async () => (await lossPoints(page)) !== null).toBe(true);
    const reloaded = await lossPoints(page);
    expect(reloaded).toEqual(live);
    await expect.poll(() => lossPixels(page)).toBe(livePixels);
    // Every batch of both epochs is in the curve: it reaches the last image trained on.
    expect(live.at(-1)!.x).toBeGreaterThan(2 * (3000 - 150) - 256 * 2);
  });

  it('the x axis shows epochs, images seen or training time; loss on a log axis', async () => {
    const { page } = app;
    const run = (await app.host.studio.listRuns())[0];
    const d = await app.host.studio.getRun(run.id);
    const chart = page.getByTestId('loss-chart');
    const xMax = async (id: string) => Number(await page.getByTestId(id).getAttribute('data-x-max'));
    expect(await chart.getAttribute('data-x-label')).toBe('images seen');
    const images = await xMax('loss-chart');
    await page.getByTestId('x-axis-epoch').click();
    await expect.poll(() => chart.getAttribute('data-x-label')).toBe('epoch');
    expect(await xMax('loss-chart')).toBeCloseTo(images / d.trainCount, 9);
    expect(await xMax('epoch-loss-chart')).toBe(2);
    await page.getByTestId('x-axis-time').click();
    await expect.poll(() => chart.getAttribute('data-x-label')).toBe('training time (s)');
    const seconds = d.epochs[0].seconds + d.epochs[1].seconds;
    expect(await xMax('epoch-loss-chart')).toBeCloseTo(seconds, 9);
    expect(await xMax('loss-chart')).toBeLessThanOrEqual(seconds + 1e-9);
    await page.getByTestId('log-loss').check();
    await expect.poll(() => chart.getAttribute('data-log-y')).toBe('true');
    expect(await page.getByTestId('epoch-loss-chart').getAttribute('data-log-y')).toBe('true');
    await app.shot('everyday-time-log');
    await page.getByTestId('log-loss').uncheck();
    await page.getByTestId('x-axis-images').click();
    expect(app.problems).toEqual([]);
  });

  it("Inspect's index box names the digit on screen after stepping and switching views", async () => {
    const { page } = app;
    await page.getByTestId('run-item').first().getByRole('button', { name: 'Latest model' }).click();
    await page.getByTestId('nav-inspect').click();
    await page.getByTestId('pick-index').fill('123');
    await page.getByTestId('pick-go').click();
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toMatch(/test #123 /);
    await page.locator('body').press('ArrowRight');
    await page.locator('body').press('ArrowRight');
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toMatch(/test #125 /);
    expect(await page.getByTestId('pick-index').inputValue()).toBe('125');

    await page.getByTestId('nav-train').click();
    await page.getByTestId('nav-inspect').click();
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toMatch(/test #125 /);
    expect(await page.getByTestId('pick-index').inputValue()).toBe('125');
    // Show keeps the digit on screen.
    await page.getByTestId('pick-go').click();
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toMatch(/test #125 /);
    expect(app.problems).toEqual([]);
  });

  it('screenshots: Train, Inspect with a convolution taken apart, Evaluate, Compare — 1280×800 and 960×640, light and dark', async () => {
    const { page } = app;
    await trainRun(app.host, 'lenet5-relu-ce', { limit: 2000, validation: 200, epochs: 2, lr: 0.02 });
    // Compare: two runs ticked.
    await page.getByTestId('nav-compare').click();
    const boxes = page.getByTestId('compare-view').locator('input[type="checkbox"]');
    await expect.poll(() => boxes.count()).toBeGreaterThanOrEqual(2);
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.getByTestId('compare-loss').waitFor();
    await expect.poll(() => page.getByTestId('compare-smoothing').count()).toBe(1);
    // Evaluate the model on screen; Inspect a digit with conv1's map 2 enlarged.
    await page.getByTestId('nav-evaluate').click();
    await page.getByTestId('confusion').waitFor({ timeout: 60_000 });
    await page.getByTestId('nav-inspect').click();
    await page.getByTestId('pick-index').fill('7');
    await page.getByTestId('pick-go').click();
    await page.getByTestId('act-conv1').click({ position: { x: 20, y: 20 } });
    await page.getByTestId('conv-breakdown').waitFor();
    for (const [w, h] of [
      [1280, 800],
      [960, 640],
    ]) {
      await page.setViewportSize({ width: w, height: h });
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const view of ['train', 'inspect', 'evaluate', 'compare']) {
          await page.getByTestId(`nav-${view}`).click();
          if (view === 'inspect') await page.getByTestId('map-detail').scrollIntoViewIfNeeded();
          await page.waitForTimeout(150);
          await app.shot(`views-${view}-${w}-${scheme}`);
        }
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(app.problems).toEqual([]);
  });
});
