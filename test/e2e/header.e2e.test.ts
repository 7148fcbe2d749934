// The header as a person sees it at 1280×800 and at the app's minimum 960×640, light and dark:
// one fixed height with and without a model, a test accuracy or a dataset problem, "Start
// training" above the fold, Save As… and Export ONNX… in a menu; a dataset problem can be
// dismissed and the embedded MNIST stays one click away. The first screen says what to do.

import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveRunModel, startApp, trainRun, type App } from './app';

let app: App;
let file: string;
const SIZES = [
  { width: 1280, height: 800 },
  { width: 960, height: 640 },
] as const;

const headerHeight = async (): Promise<number> => (await app.page.locator('header').boundingBox())!.height;

beforeAll(async () => {
  app = await startApp();
  const run = await trainRun(app.host, 'lenet5-relu-ce', { limit: 1000, validation: 100 });
  ({ path: file } = await saveRunModel(app, run.id, 'a-model-with-a-rather-long-file-name-for-the-header.lenet'));
}, 240_000);
afterAll(async () => app?.close());

describe('the header in Chromium', () => {
  it('opens on Train with what to do first, not four empty charts', async () => {
    const { page } = app;
    await page.getByTestId('guide').waitFor();
    expect(await page.getByTestId('guide').textContent()).toMatch(/Start training/);
    expect(await page.getByTestId('loss-chart').count()).toBe(0);
    // With runs on the right, it says they can be opened again.
    await page.getByTestId('guide-runs').waitFor();
    for (const theme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: theme });
      for (const s of SIZES) {
        await page.setViewportSize(s);
        await app.shot(`train-first-${s.width}-${theme}`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('keeps one height at 1280 and 960, with and without a model and a test accuracy; Start training above the fold', async () => {
    const { page, host } = app;
    const heights: Record<string, number[]> = {};
    const measure = async (what: string) => {
      for (const s of SIZES) {
        await page.setViewportSize(s);
        (heights[s.width] ??= []).push(await headerHeight());
        const start = await page.getByTestId('start').boundingBox();
        expect(start, `${what} at ${s.width}`).not.toBeNull();
        expect(start!.y + start!.height, `Start training at ${s.width}×${s.height}, ${what}`).toBeLessThanOrEqual(s.height);
      }
    };
    await page.getByTestId('nav-train').click();
    await measure('no model');
    host.dialogAnswers.push(file);
    await page.getByTestId('model').getByRole('button', { name: 'Open…' }).click();
    await page.getByTestId('model-label').waitFor();
    await measure('a model');
    await page.getByTestId('evaluate').click();
    await page.getByTestId('evaluation').waitFor({ timeout: 60_000 });
    await measure('a model and its test accuracy');
    for (const theme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: theme });
      for (const s of SIZES) {
        await page.setViewportSize(s);
        await app.shot(`header-model-${s.width}-${theme}`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    for (const w of ['1280', '960']) expect(new Set(heights[w]), `header heights at ${w}`).toEqual(new Set([heights['1280'][0]]));
    expect(heights['960'][0]).toBeLessThanOrEqual(90);
  });

  it('Save As… and Export ONNX… live in a menu, keyboard included', async () => {
    const { page, host, dataDir } = app;
    await page.setViewportSize(SIZES[1]);
    await page.getByTestId('model-menu').click();
    await app.shot('header-menu-960');
    const target = join(dataDir, 'exported');
    host.dialogAnswers.push(target);
    await page.getByTestId('menu-export-onnx').click();
    await expect.poll(() => page.getByTestId('notices').textContent()).toMatch(/Exported .*exported\.onnx/);
    expect((await stat(`${target}.onnx`)).size).toBeGreaterThan(200_000);
    // Keyboard: ↓ opens and focuses the first item, Escape closes and returns focus.
    await page.getByTestId('model-menu').focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('menu-save-as');
    await page.keyboard.press('Escape');
    await page.getByTestId('menu-save-as').waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('model-menu');
  });

  it('a dataset problem keeps the height, offers the embedded MNIST, and can be dismissed', async () => {
    const { page, host, dataDir } = app;
    const bad = join(dataDir, 'not-mnist');
    await mkdir(bad);
    await writeFile(join(bad, 'train-images-idx3-ubyte'), 'hello');
    const before = await headerHeight();
    host.dialogAnswers.push(bad);
    await page.getByTestId('dataset-menu').click();
    await page.getByTestId('menu-open').click();
    await expect.poll(() => page.getByTestId('dataset-error').getAttribute('title')).toMatch(/not-mnist .*missing train-labels-idx1-ubyte/);
    expect(await page.getByTestId('dataset').textContent()).toMatch(/MNIST \(embedded\)/);
    expect(await headerHeight()).toBe(before);
    expect(await page.getByTestId('dataset-embedded').isVisible()).toBe(true);
    expect(await page.getByTestId('start').isVisible()).toBe(true);
    await app.shot('header-dataset-error-960');
    await page.getByTestId('dataset-error-dismiss').click();
    await page.getByTestId('dataset-error').waitFor({ state: 'detached' });
    // Again, and this time the embedded MNIST button clears it by loading a dataset that works.
    host.dialogAnswers.push(bad);
    await page.getByTestId('dataset-menu').click();
    await page.getByTestId('menu-open').click();
    await page.getByTestId('dataset-error').waitFor();
    await page.getByTestId('dataset-embedded').click();
    await page.getByTestId('dataset-error').waitFor({ state: 'detached' });
    await page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor();
    expect(await headerHeight()).toBe(before);
    expect(app.problems).toEqual([]);
  });
});
