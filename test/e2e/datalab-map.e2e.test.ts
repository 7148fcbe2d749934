// The Data lab's data map in Chromium, on a short run with its per-sample history: the scatter
// draws one point per trained-on image (the studio's own count), the pointer over a point shows
// that digit and its numbers, a region's gallery lists the region's images (counted here from the
// studio's map with the documented rule) and a click opens the digit in Inspect. Photographed at
// 1280×800 and 960×640 in both themes under test-results/datalab/.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionOf, type Region } from '../../src/engine/data-lab/data-map';
import type { DataMapPayload, RunSummary } from '../../src/common/records';
import { SHOTS, startApp, trainRun, type App } from './app';

let app: App;
let run: RunSummary;
let map: DataMapPayload;

beforeAll(async () => {
  app = await startApp({ colorScheme: 'light' });
  await mkdir(join(SHOTS, 'datalab'), { recursive: true });
  run = await trainRun(app.host, 'lenet5-relu-ce', { limit: 2000, validation: 200, epochs: 2 });
  map = await app.host.studio.dataMap(run.id);
});
afterAll(async () => app?.close());

const trainedOn = (): number[] => Array.from({ length: map.count }, (_, i) => i).filter((i) => map.trained[i]);

describe('Data lab: the data map in Chromium', () => {
  it('draws one point per trained-on image and labels the regions', async () => {
    const { page } = app;
    await page.getByTestId('nav-datalab').click();
    const canvas = page.getByTestId('data-map-canvas');
    await canvas.waitFor();
    expect(trainedOn()).toHaveLength(1800);
    expect(Number(await canvas.getAttribute('data-points'))).toBe(1800);
    expect(await page.getByTestId('data-map-summary').textContent()).toMatch(/1,800 training images · epochs 1–2 · 200 held out/);
    const counts: Record<Region, number> = { easy: 0, ambiguous: 0, hard: 0 };
    for (const i of trainedOn()) counts[regionOf(map.confidence[i], map.variability[i])]++;
    for (const g of ['easy', 'ambiguous', 'hard'] as const)
      expect(await page.getByTestId(`region-${g}`).textContent()).toContain(`${g} (${counts[g].toLocaleString('en-US')})`);
    expect(await canvas.getAttribute('aria-label')).toContain(`${counts.easy} easy, ${counts.ambiguous} ambiguous, ${counts.hard} hard`);
  });

  it('the pointer over a point shows that digit, its label and numbers', async () => {
    const { page } = app;
    const canvas = page.getByTestId('data-map-canvas');
    await expect.poll(() => canvas.getAttribute('data-area')).toBeTruthy();
    const [left, top, w, h] = (await canvas.getAttribute('data-area'))!.split(',').map(Number);
    const box = (await canvas.boundingBox())!;
    // The most variable image: out on its own, to the right of the crowd.
    const i = trainedOn().reduce((a, b) => (map.variability[b] > map.variability[a] ? b : a));
    const x = box.x + left + (map.variability[i] / 0.5) * (w - 1);
    const y = box.y + top + (1 - map.confidence[i]) * (h - 1);
    await page.mouse.move(x, y);
    const card = page.getByTestId('data-map-hover');
    await card.waitFor();
    // The point shown lies under the pointer (within the 6-pixel pick radius and a pixel of rounding).
    const shown = Number(await card.getAttribute('data-index'));
    const dx = (map.variability[shown] / 0.5) * (w - 1) - (x - box.x - left);
    const dy = (1 - map.confidence[shown]) * (h - 1) - (y - box.y - top);
    expect(Math.hypot(dx, dy)).toBeLessThan(7.5);
    expect(await card.textContent()).toContain(`#${shown} · label ${map.labels[shown]}`);
    expect(await card.textContent()).toContain(`confidence ${map.confidence[shown].toFixed(3)}`);
    await card.locator('canvas').waitFor();
    await app.shot('datalab/data-map-hover-1280x800-light');
    await page.mouse.move(box.x + 2, box.y + 2);
    await card.waitFor({ state: 'detached' });
  });

  it('a region gallery lists its images; a click inspects that training image', async () => {
    const { page } = app;
    // A model on screen, so Inspect runs the digit.
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"]').first().getByRole('button', { name: 'Latest model' }).click();
    await page.getByTestId('model-label').waitFor();
    await page.getByTestId('nav-datalab').click();
    await page.getByTestId('region-hard').click();
    const hard = trainedOn().filter((i) => regionOf(map.confidence[i], map.variability[i]) === 'hard');
    hard.sort((a, b) => map.confidence[a] - map.confidence[b] || a - b);
    expect(hard.length).toBeGreaterThan(0);
    const cells = page.getByTestId('region-gallery').locator('[data-cell]');
    await expect.poll(() => cells.count()).toBe(Math.min(120, hard.length));
    expect(Number(await cells.first().getAttribute('data-index'))).toBe(hard[0]);
    await cells.first().click();
    await page.getByTestId('inspect-view').waitFor();
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toBe(`train #${hard[0].toLocaleString('en-US')} · label ${map.labels[hard[0]]}`);
    expect(await page.getByTestId('sequence').textContent()).toContain(`1 of ${hard.length} in “data map: hard”`);
  });

  it('photographed at 1280×800 and 960×640 in light and dark', async () => {
    const { page } = app;
    await page.getByTestId('nav-datalab').click();
    await page.getByTestId('data-map-canvas').waitFor();
    for (const t of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: t });
      for (const size of [
        { width: 1280, height: 800 },
        { width: 960, height: 640 },
      ]) {
        await page.setViewportSize(size);
        await page.waitForTimeout(300);
        await app.shot(`datalab/data-map-${size.width}x${size.height}-${t}`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(app.problems).toEqual([]);
  });
});
