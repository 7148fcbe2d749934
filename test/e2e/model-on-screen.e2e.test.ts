// The model on screen stays the user's, as a person sees it in Chromium through the test host:
// starting a run (even one that diverges) leaves it alone; "Follow this run" is the explicit way
// to watch a run's snapshots; Save writes to the model's own file and names the model after it;
// an evaluation never sticks to another model; the keys work as in the app; a finished run
// offers its best model; and a restart brings back the last model and the last run's charts.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveRunModel, startApp, trainRun, type App } from './app';

let app: App;
let good: string;

/** The model's name as the bar shows it (without a parameter count, should the bar add one). */
const label = async () => (await app.page.getByTestId('model-label').textContent())?.replace(/[\d,]+ parameters$/, '').trim();
const controls = (state: string) => app.page.locator(`[data-testid="run-controls"][data-state="${state}"]`);

async function fillForm(values: Record<string, string>): Promise<void> {
  for (const [id, v] of Object.entries(values)) await app.page.getByTestId(id).fill(v);
}

beforeAll(async () => {
  app = await startApp();
  const run = await trainRun(app.host, 'lenet5-relu-ce', { limit: 1000, validation: 100 });
  ({ path: good } = await saveRunModel(app, run.id, 'good.lenet'));
  await app.page.reload(); // list the run trained behind the window's back
  await app.page.getByTestId('dataset').and(app.page.locator('[data-state="ready"]')).waitFor();
}, 240_000);
afterAll(async () => app?.close());

describe('the model on screen in Chromium', () => {
  it('starting a run that diverges leaves the opened model on screen, and the run reads "diverged"', async () => {
    const { page, host } = app;
    host.dialogAnswers.push(good);
    await page.getByTestId('model').getByRole('button', { name: 'Open…' }).click();
    await expect.poll(label).toBe('good.lenet');
    await page.getByTestId('preset').selectOption('lenet5-relu-ce');
    await fillForm({ epochs: '2', batch: '16', lr: '100', limit: '2000', validation: '200' });
    await page.getByTestId('start').click();
    // It may diverge within its first batches: look at the label until it has.
    const seen = new Set<string | undefined>();
    const end = Date.now() + 120_000;
    while (!(await controls('diverged').count()) && Date.now() < end) {
      seen.add(await label());
      await page.waitForTimeout(50);
    }
    expect([...seen]).toEqual(['good.lenet']);
    await controls('diverged').waitFor({ timeout: 1000 });
    expect(await page.getByTestId('state').textContent()).toBe('diverged');
    expect(await page.getByTestId('outcome').textContent()).toMatch(/diverged: training diverged at epoch 1/);
    expect(await label()).toBe('good.lenet');
    // Evaluate acts on the model on screen: the good one, not the diverged run's weights.
    await page.getByTestId('evaluate').click();
    const want = await host.studio.evaluateModel(await host.studio.openModelPath(good));
    await expect.poll(() => page.getByTestId('evaluation').textContent(), { timeout: 60_000 }).toContain(`${(100 * want.accuracy).toFixed(2)}%`);
    await app.shot('model-kept-after-divergence');
  });

  it('"Follow this run" puts the run’s snapshots on screen; an evaluation never outlives its model', async () => {
    const { page, host } = app;
    await fillForm({ epochs: '2', batch: '8', lr: '0.05', limit: '2000', validation: '200' });
    await page.getByTestId('start').click();
    await page.getByTestId('follow').check();
    // The trainer loads the dataset first; the untrained snapshot (epoch 0) comes after that.
    await expect.poll(label, { timeout: 60_000 }).toMatch(/lenet5-relu-ce-.*, epoch [01]$/);
    expect(await page.getByTestId('model-following').isVisible()).toBe(true);
    // Evaluate the untrained snapshot during epoch 1: its accuracy shows only while it is on screen.
    await page.getByTestId('nav-evaluate').click();
    await page.getByTestId('nav-train').click();
    await expect.poll(label, { timeout: 120_000 }).toMatch(/, epoch 2$/);
    await controls('done').waitFor({ timeout: 120_000 });
    const shown = await page
      .getByTestId('evaluation')
      .textContent({ timeout: 100 })
      .catch(() => null);
    if (shown !== null) {
      // The run this test started: the one that finished (the previous test's run diverged).
      const runId = (await host.studio.listRuns()).find((r) => r.status === 'done')!.id;
      const want = await host.studio.evaluateModel(await host.studio.runModel(runId, 'latest'));
      expect(shown).toContain(`${(100 * want.accuracy).toFixed(2)}%`);
    }
    // Following ends when the user opens another model (here with the app's accelerator).
    host.dialogAnswers.push(good);
    await page.keyboard.press('Control+o');
    await expect.poll(label).toBe('good.lenet');
  });

  it('a finished run offers its best model: Evaluate puts it on screen and evaluates it', async () => {
    const { page } = app;
    // The run of the previous test has just finished.
    await page.getByTestId('next-steps').waitFor();
    await page.getByTestId('next-evaluate').click();
    await page.getByTestId('evaluate-view').or(page.getByTestId('confusion')).first().waitFor();
    await expect.poll(label).toMatch(/lenet5-relu-ce-.*, epoch \d$/);
    await page.getByTestId('confusion').waitFor({ timeout: 60_000 });
    await page.getByTestId('nav-train').click();
  });

  it('Save As asks once; then Save (Ctrl+S) writes to that file without asking, and the label is its name', async () => {
    const { page, host, dataDir } = app;
    const target = join(dataDir, 'kept');
    host.dialogAnswers.push(target);
    await page.keyboard.press('Control+Shift+S');
    await expect.poll(() => page.getByTestId('notices').textContent()).toMatch(/Saved .*kept\.lenet/);
    await expect.poll(label).toBe('kept.lenet');
    const first = (await stat(`${target}.lenet`)).mtimeMs;
    await page.waitForTimeout(20);
    // No dialog answer queued: a dialog would cancel the save.
    await page.getByTestId('save-model').click();
    await expect.poll(async () => (await stat(`${target}.lenet`)).mtimeMs, { timeout: 10_000 }).toBeGreaterThan(first);
    expect(host.dialogAnswers).toEqual([]);
    const second = (await stat(`${target}.lenet`)).mtimeMs;
    await page.waitForTimeout(20);
    await page.keyboard.press('Control+s');
    await expect.poll(async () => (await stat(`${target}.lenet`)).mtimeMs, { timeout: 10_000 }).toBeGreaterThan(second);
    expect(await label()).toBe('kept.lenet');
  });

  it('the ? dialog lists the model keys', async () => {
    const { page } = app;
    await page.getByTestId('shortcuts').click();
    const text = await page.getByTestId('shortcuts-dialog').textContent();
    expect(text).toMatch(/Ctrl\+O\s*Open a model/);
    expect(text).toMatch(/Ctrl\+S\s*Save the model/);
    expect(text).toMatch(/Ctrl\+Shift\+S\s*Save the model as a new file/);
    await page.keyboard.press('Escape');
    await page.getByTestId('shortcuts-dialog').waitFor({ state: 'detached' });
  });

  it('the Train charts say which run they show', async () => {
    const { page, host } = app;
    const list = await host.studio.listRuns();
    for (const r of list.slice(0, 2)) {
      await page.locator('[data-testid="run-item"]').nth(list.indexOf(r)).click();
      await expect.poll(() => page.getByTestId('charts-run').getAttribute('data-run')).toBe(r.id);
      expect(await page.getByTestId('charts-run').textContent()).toContain(r.preset);
      expect(await page.getByTestId('charts-run').textContent()).toContain(r.status);
    }
    for (const theme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: theme });
      for (const size of [
        { width: 1280, height: 800 },
        { width: 960, height: 640 },
      ]) {
        await page.setViewportSize(size);
        await app.shot(`train-run-shown-${size.width}-${theme}`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('after a restart: the last model and the last run’s charts are back', async () => {
    const { page } = app;
    const shownRun = await page.getByTestId('charts-run').getAttribute('data-run');
    const points = await page.getByTestId('epoch-loss-chart').getAttribute('data-points');
    await page.reload();
    await page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor();
    await expect.poll(label).toBe('kept.lenet');
    await expect.poll(() => page.getByTestId('charts-run').getAttribute('data-run')).toBe(shownRun);
    await expect.poll(() => page.getByTestId('epoch-loss-chart').getAttribute('data-points')).toBe(points);
    expect(app.problems).toEqual([]);
  });
});
