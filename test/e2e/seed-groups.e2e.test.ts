// Seed groups and runs you manage, in Chromium: three runs that differ only by seed show their
// mean test-error curve with a band in Train and in Compare (± std, or the 95 % interval), Compare
// states McNemar's verdict beside the fixed/broke galleries, and a run renamed, tagged, hidden or
// deleted in the list is so in its run.json, and Compare's picker shows names and tags and leaves
// hidden runs out. Screenshots in light and dark, at 1280×800 and 960×640.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/common/records';
import { groupDifference, mcnemarExact, mcnemarVerdict } from '../../src/common/stats';
import { startApp, trainRun, type App } from './app';

let app: App;
let seeds: RunSummary[];
let others: RunSummary[];

beforeAll(async () => {
  app = await startApp({ train: 1200, test: 300 });
  seeds = [];
  for (const seed of [1, 2, 3]) seeds.push(await trainRun(app.host, 'lenet5-relu-ce', { seed, epochs: 2, limit: 600, validation: 60 }));
  // Another configuration, a second group of two: not in the first group.
  others = [];
  for (const seed of [1, 2]) others.push(await trainRun(app.host, 'lenet5-relu-ce', { seed, epochs: 2, limit: 600, validation: 60, lr: 0.02 }));
}, 240_000);
afterAll(async () => app?.close());

const bands = async (testid: string): Promise<number> => Number(await app.page.getByTestId(testid).getAttribute('data-bands'));

describe('seed groups in Chromium', () => {
  it('Train: the shown run’s group of three draws a mean curve with a band; the runs on demand', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    await page.reload();
    await page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor();
    const item = page.locator(`[data-testid="run-item"][data-run="${seeds[1].id}"]`);
    await expect.poll(async () => item.locator('.run-body').textContent()).toMatch(/seed 2 \(group of 3\)/);
    await item.click();
    const chart = page.getByTestId('train-seed-group');
    await chart.waitFor();
    await expect.poll(() => bands('train-seed-group')).toBe(1);
    expect(Number(await chart.getAttribute('data-points'))).toBe(2); // the mean: one point per epoch
    await page.getByTestId('show-seed-runs').check();
    await expect.poll(async () => Number(await chart.getAttribute('data-points'))).toBe(2); // the runs are faint, not counted twice
    await chart.scrollIntoViewIfNeeded();
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await app.shot(`seed-group-train-1280-${scheme}`);
    }
    await page.setViewportSize({ width: 960, height: 640 });
    await chart.scrollIntoViewIfNeeded();
    await app.shot('seed-group-train-960-light');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('Compare: two seeds of the group, the band selectable, and McNemar’s verdict beside the galleries', async () => {
    const { page } = app;
    await page.getByTestId('nav-compare').click();
    await page.getByTestId(`pick-${seeds[0].id}`).check();
    await page.getByTestId(`pick-${seeds[2].id}`).check();
    const chart = page.getByTestId('compare-seed-group');
    await chart.waitFor();
    await expect.poll(() => bands('compare-seed-group')).toBe(1);
    const pixels = () => chart.locator('canvas').evaluate((c) => (c as HTMLCanvasElement).toDataURL());
    const stdPixels = await pixels();
    await page.getByTestId('compare-seed-group-section').getByTestId('band-select').selectOption('ci95');
    await expect.poll(pixels).not.toBe(stdPixels); // the 95 % interval of three is wider (t = 4.30)

    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 60_000 });
    // The same counts the galleries show, the same words the CLI prints.
    const fixed = await page.locator('.fb-columns h3').nth(0).textContent();
    const broke = await page.locator('.fb-columns h3').nth(1).textContent();
    const onlyB = Number(/\((\d+)\)/.exec(fixed ?? '')![1]);
    const onlyA = Number(/\((\d+)\)/.exec(broke ?? '')![1]);
    expect(await verdict.textContent()).toBe(mcnemarVerdict({ onlyA, onlyB, pValue: mcnemarExact(onlyA, onlyB) }).trim());
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width: 1280, height: 800 });
      await app.shot(`seed-group-compare-1280-${scheme}`);
      await page.setViewportSize({ width: 960, height: 640 });
      await app.shot(`seed-group-compare-960-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('Compare: two groups get the difference in mean final test error with its bootstrap interval, in words', async () => {
    const { page } = app;
    await page.getByTestId(`pick-${seeds[2].id}`).uncheck();
    await page.getByTestId(`pick-${others[0].id}`).check();
    const difference = page.getByTestId('compare-seed-group-difference');
    await difference.waitFor();
    const errors = (rs: RunSummary[]): number[] => rs.map((r) => 1 - r.finalTestAccuracy!);
    expect(await difference.textContent()).toBe(groupDifference(errors(seeds), errors(others), { a: 'group A', b: 'group B' }).text);
    await app.shot('seed-group-difference-1280-light');
    await page.getByTestId(`pick-${others[0].id}`).uncheck();
    await expect.poll(() => difference.count()).toBe(0);
  });

  it('the runs list: rename and tag, filter by tag, hide, delete after a confirmation — all in run.json', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    const runJson = async (id: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(app.dataDir, 'runs', id, 'run.json'), 'utf8'));
    const item = (id: string) => page.locator(`[data-testid="run-item"][data-run="${id}"]`);
    await item(seeds[0].id).getByTestId('run-edit-button').click();
    await page.getByTestId('edit-name').fill('relu, seed 1');
    await page.getByTestId('edit-tags').fill('baseline, seeds');
    await page.getByTestId('edit-save').click();
    await expect.poll(async () => (await runJson(seeds[0].id)).name).toBe('relu, seed 1');
    expect((await runJson(seeds[0].id)).tags).toEqual(['baseline', 'seeds']);
    await page.getByTestId('filter-tag').selectOption('baseline');
    await expect.poll(() => page.getByTestId('run-item').count()).toBe(1);
    await app.shot('runs-managed-1280-light');
    await page.getByTestId('filter-tag').selectOption('');

    await item(seeds[1].id).getByTestId('run-hide').click();
    await expect.poll(async () => (await runJson(seeds[1].id)).hidden).toBe(true);
    await expect.poll(() => item(seeds[1].id).count()).toBe(0);

    await item(seeds[2].id).getByTestId('run-delete').click();
    await page.getByTestId('confirm-delete').click();
    await expect
      .poll(() =>
        stat(join(app.dataDir, 'runs', seeds[2].id)).then(
          () => true,
          () => false,
        ),
      )
      .toBe(false);

    // Compare's picker names the renamed run with its tags, and leaves the hidden one out.
    await page.getByTestId('nav-compare').click();
    const picked = page.getByTestId('run-picker').locator('li', { has: page.getByTestId(`pick-${seeds[0].id}`) });
    await expect.poll(async () => picked.textContent()).toMatch(/relu, seed 1.*lenet5-relu-ce · seed 1.*baseline\s*seeds/s);
    expect(await page.getByTestId(`pick-${seeds[1].id}`).count()).toBe(0);
    expect(await page.getByTestId(`pick-${others[1].id}`).count()).toBe(1);
    expect(app.problems).toEqual([]);
  });
});
