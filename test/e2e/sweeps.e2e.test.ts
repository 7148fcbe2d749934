// Sweeps in Chromium: a 2×2 grid (learning rate × momentum) with 2 seeds, planned in the Sweeps
// tab over Train's settings, trains its eight runs one after another; the app quits mid-way and
// starts again, the sweep shows as stopped with what it had, Resume finishes it, and the page
// shows the parallel-coordinates chart (a line per run), the importance table and the
// configurations. Also: a plan the backend would refuse is explained before it is sent, and the
// tabs still fit the header. Screenshots at 1280×800 and 960×640, light and dark.

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepFile } from '../../src/common/sweep';
import { startApp, type App } from './app';

let app: App;

beforeAll(async () => {
  app = await startApp({ train: 1200, test: 300 });
}, 120_000);
afterAll(async () => app?.close());

const progress = () => app.page.getByTestId('sweep-progress');
const done = async (): Promise<number> => Number(await progress().getAttribute('data-done'));
const sweepFile = async (): Promise<SweepFile> => {
  const [id] = await readdir(join(app.dataDir, 'sweeps'));
  return JSON.parse(await readFile(join(app.dataDir, 'sweeps', id, 'sweep.json'), 'utf8')) as SweepFile;
};

describe('sweeps in Chromium', () => {
  it('plans a 2×2 grid with 2 seeds over Train’s settings, explaining a bad value first', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    await page.getByTestId('preset').selectOption('lenet5-relu-ce');
    await page.getByTestId('epochs').fill('2');
    await page.getByTestId('limit').fill('300');
    await page.getByTestId('validation').fill('30');
    await page.getByTestId('nav-sweeps').click();
    await page.getByTestId('sweeps-view').waitFor();
    expect(await page.getByTestId('state-empty').textContent()).toMatch(/No sweep yet/);
    expect(await page.getByTestId('sweep-base').textContent()).toMatch(/lenet5-relu-ce · 2 epochs .*300 images/);

    const values = page.getByTestId('sweep-axis-values');
    await values.nth(0).fill('0.02,fast');
    expect(await page.getByTestId('sweep-problem').textContent()).toMatch(/^lr: "fast" is not a number/);
    expect(await page.getByTestId('sweep-start').isDisabled()).toBe(true);
    await values.nth(0).fill('0.01, 0.02');
    await values.nth(1).fill('0.8,0.9');
    await page.getByTestId('sweep-seeds').fill('2');
    expect(await page.getByTestId('sweep-size').textContent()).toMatch(/4 configurations × 2 seeds =\s*8 runs/);
    await app.shot('sweeps-plan-1280-light');
  });

  it('trains its runs one after another; a restart mid-way leaves it stopped, and Resume finishes it', async () => {
    const { page } = app;
    await page.getByTestId('sweep-start').click();
    await expect.poll(() => progress().getAttribute('data-state'), { timeout: 30_000 }).toBe('running');
    expect(await progress().getAttribute('data-total')).toBe('8');
    await expect.poll(done, { timeout: 240_000, interval: 200 }).toBeGreaterThanOrEqual(3);
    // At most one run trains at a time (none for a moment between two runs).
    const before = await sweepFile();
    expect(before.configs.flatMap((c) => c.runs).filter((r) => r.status === 'running').length).toBeLessThanOrEqual(1);

    await app.restart();
    await page.getByTestId('nav-sweeps').click();
    await expect.poll(() => progress().getAttribute('data-state')).toBe('stopped');
    const kept = await done();
    expect(kept).toBeGreaterThanOrEqual(3);
    expect(kept).toBeLessThan(8);
    await app.shot('sweeps-stopped-1280-light');

    await page.getByTestId('sweep-resume').click();
    await expect.poll(() => progress().getAttribute('data-state'), { timeout: 30_000 }).toBe('running');
    await expect.poll(() => progress().getAttribute('data-state'), { timeout: 300_000, interval: 250 }).toBe('done');
    expect(await done()).toBe(8);
    const after = await sweepFile();
    const runs = after.configs.flatMap((c) => c.runs);
    expect(runs.map((r) => r.status)).toEqual(Array(8).fill('done'));
    for (const r of runs) {
      expect(r.finalTestError).toBeGreaterThanOrEqual(0);
      const status = JSON.parse(await readFile(join(app.dataDir, 'runs', r.runId, 'status.json'), 'utf8')) as { status: string };
      expect(status.status).toBe('done');
    }
    // Train shows the sweep's runs as they train: the last one is on its charts now.
    await page.getByTestId('nav-train').click();
    await expect.poll(() => page.getByTestId('charts-run').getAttribute('data-run')).toBe(runs[7].runId);
    await page.getByTestId('nav-sweeps').click();
    // The runs that ended before the restart kept their folders and results.
    for (const r of before.configs.flatMap((c) => c.runs).filter((x) => x.status === 'done')) {
      expect(runs.find((x) => x.runId === r.runId)?.finalTestError).toBe(r.finalTestError);
    }
  });

  it('shows a line per run across lr, momentum and the test error, what matters and each configuration', async () => {
    const { page } = app;
    const chart = page.getByTestId('parallel-coords');
    await chart.waitFor();
    expect(await chart.getAttribute('data-lines')).toBe('8');
    expect(await chart.getAttribute('data-axes')).toBe('3');
    expect(await chart.locator('polyline').count()).toBe(8);
    expect(await chart.locator('.pc-name').allTextContents()).toEqual(['lr (log)', 'momentum', 'test error']);
    // Each line crosses every axis: three points, inside the drawing.
    for (const points of await chart.locator('polyline').evaluateAll((ls) => ls.map((l) => l.getAttribute('points') ?? ''))) {
      const xy = points.split(' ').map((p) => p.split(',').map(Number));
      expect(xy).toHaveLength(3);
      for (const [x, y] of xy) {
        expect(x).toBeGreaterThan(0);
        expect(y).toBeGreaterThan(0);
        expect(y).toBeLessThan(300);
      }
    }
    const importance = page.getByTestId('sweep-importance');
    expect(await importance.locator('tbody tr').count()).toBe(2);
    expect(await importance.locator('tbody th').allTextContents()).toEqual(['lr', 'momentum']);
    const configs = page.getByTestId('sweep-configs').locator('tbody tr');
    expect(await configs.count()).toBe(4);
    expect(await configs.first().getAttribute('data-best')).toBe('true');
    expect(await configs.first().locator('td').nth(2).textContent()).toBe('2/2');
    // The runs are ordinary runs: in Train's list, named by what they vary.
    const [id] = await readdir(join(app.dataDir, 'sweeps'));
    const runJson = JSON.parse(await readFile(join(app.dataDir, 'runs', (await sweepFile()).configs[0].runs[1].runId, 'run.json'), 'utf8'));
    expect(runJson.name).toBe('lr=0.01 momentum=0.8 · seed 2');
    expect(runJson.tags).toEqual(['sweep', id]);

    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const size of [
        { width: 1280, height: 800 },
        { width: 960, height: 640 },
      ]) {
        await page.setViewportSize(size);
        // Ten tabs and the help button on one line, inside the window.
        const tabs = await page.getByRole('tab').evaluateAll((ts) => ts.map((t) => t.getBoundingClientRect()).map((r) => ({ top: r.top, right: r.right })));
        expect(new Set(tabs.map((t) => Math.round(t.top))).size).toBe(1);
        expect(Math.max(...tabs.map((t) => t.right))).toBeLessThanOrEqual(size.width);
        await app.shot(`sweeps-done-${size.width}-${scheme}`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(app.problems.filter((p) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(p))).toEqual([]);
  });
});

describe('a preset’s distortions in Train', () => {
  it('lenet5-best fills in its distortions; a bad one is explained; a run trains with them', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    await page.getByTestId('preset').selectOption('lenet5-best');
    expect([await page.getByTestId('shift').inputValue(), await page.getByTestId('rotate').inputValue(), await page.getByTestId('scale').inputValue()]).toEqual(
      ['2', '10', '0.1'],
    );
    await page.getByTestId('rotate').fill('200');
    expect(await page.getByTestId('rotateDeg-error').textContent()).toMatch(/^Rotate \(°\) must be /);
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    await page.getByTestId('rotate').fill('12');
    await page.getByTestId('epochs').fill('1');
    await page.getByTestId('limit').fill('200');
    await page.getByTestId('validation').fill('0');
    await page.getByTestId('start').click();
    const run = await expect
      .poll(async () => (await app.host.studio.listRuns()).find((r) => r.preset === 'lenet5-best' && r.status === 'done'), { timeout: 120_000 })
      .toBeTruthy()
      .then(async () => (await app.host.studio.listRuns()).find((r) => r.preset === 'lenet5-best')!);
    expect(run.settings.augment).toEqual({ shift: 2, rotateDeg: 12, scale: 0.1 });
    // Back to a preset without distortions: the fields say none.
    await page.getByTestId('preset').selectOption('lenet5-relu-ce');
    expect(await page.getByTestId('rotate').inputValue()).toBe('0');
  });
});
