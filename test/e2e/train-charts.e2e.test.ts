// What the inspector issue adds to the Train view, as a person sees it while a run trains (in
// the dark theme): the batch loss with its moving average, train/validation/test loss and the
// learning rate per epoch with the best epoch marked, images/s and ETA, a hyper-parameter
// refused with a reason, and every chart saved as a PNG.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from './app';

let app: App;

beforeAll(async () => {
  app = await startApp({ colorScheme: 'dark' });
});
afterAll(async () => app?.close());

const points = async (id: string): Promise<number> => Number(await app.page.getByTestId(id).getAttribute('data-points'));

describe('Train view charts in Chromium', () => {
  it('refuses a batch size of 0, with the reason', async () => {
    const { page } = app;
    await page.getByTestId('batch').fill('0');
    await expect.poll(() => page.getByTestId('batchSize-error').textContent()).toMatch(/Batch size must be a whole number from 1 to 4,096/);
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    await page.getByTestId('batch').fill('32');
    await page.getByTestId('batchSize-error').waitFor({ state: 'detached' });
  });

  it('a 3-epoch run: loss curve grows live, per-epoch loss and learning rate, best epoch marked', async () => {
    const { page } = app;
    await page.getByTestId('preset').selectOption('lenet5-relu-ce');
    await page.getByTestId('epochs').fill('3');
    // Batches of 8 keep each epoch several progress intervals long (the curve must grow live).
    await page.getByTestId('batch').fill('8');
    await page.getByTestId('lr').fill('0.05');
    await page.getByTestId('schedule').selectOption('cosine');
    await page.getByTestId('limit').fill('3000');
    await page.getByTestId('validation').fill('150');
    await page.getByTestId('start').click();

    await page.getByTestId('progress').waitFor();
    expect(await page.getByTestId('progress').textContent()).toMatch(/images\/s[\s\S]*ETA/);
    await expect.poll(() => points('loss-chart'), { timeout: 60_000 }).toBeGreaterThan(1);
    const early = await points('loss-chart');
    await expect.poll(() => points('epoch-loss-chart'), { timeout: 120_000 }).toBeGreaterThan(0);
    await app.shot('train-live-dark');
    // Grows after the first look (progress comes at most every 100 ms, so how many points a run
    // gets depends on the engine's speed, not on this test).
    await expect.poll(() => points('loss-chart'), { timeout: 120_000 }).toBeGreaterThan(early);

    await page.locator('[data-testid="run-controls"][data-state="done"]').waitFor({ timeout: 180_000 });
    // test + validation + train loss for 3 epochs; one learning rate per epoch, falling (cosine).
    await expect.poll(() => points('epoch-loss-chart')).toBe(9);
    expect(await points('lr-chart')).toBe(3);
    const run = (await app.host.studio.listRuns())[0];
    const detail = await app.host.studio.getRun(run.id);
    expect(detail.epochs.map((m) => m.lr)).toEqual([...detail.epochs.map((m) => m.lr)].sort((x, y) => y - x));
    // The best epoch (validation accuracy) is starred in the table.
    const best = run.bestEpoch!;
    expect(await page.getByTestId('epoch-table').locator('tr.best td').first().textContent()).toBe(`${best} ★`);
    await app.shot('train-done-dark');
  });

  it('the smoothing slider redraws the moving average over the same points', async () => {
    const { page } = app;
    const pixels = () =>
      page
        .getByTestId('loss-chart')
        .locator('canvas')
        .evaluate((c) => (c as HTMLCanvasElement).toDataURL());
    const before = await points('loss-chart');
    const drawn = await pixels();
    await page.getByTestId('smoothing').fill('0');
    await expect.poll(pixels).not.toBe(drawn);
    expect(await points('loss-chart')).toBe(before);
  });

  it('saves each chart as a PNG', async () => {
    const { page } = app;
    const names: string[] = [];
    for (const id of ['loss-chart', 'accuracy-chart', 'epoch-loss-chart', 'lr-chart']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(id).getByTestId('save-png').click()]);
      names.push(download.suggestedFilename());
    }
    expect(names).toEqual(['batch-loss.png', 'accuracy-per-epoch.png', 'loss-per-epoch.png', 'learning-rate.png']);
    expect(app.problems).toEqual([]);
  });
});
