// The plain renderer in real Chromium, through the test host (same studio, real trainer): it
// shows the dataset, validates settings, trains a short run with live progress, pauses and
// resumes, and lists the finished run. Screenshots go to test-results/.

import { mkdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnistSubset } from '../helpers/mnist-subset';
import { README_SHOT, readmeScreenshot } from './app';
import { launch, openApp } from './browser';
import { builtTrainer, startTestHost, type TestHost } from './host/server';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = join(ROOT, 'test-results');
let host: TestHost;
let browser: Browser;
let page: Page;
let problems: string[];
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'lenet-e2e-'));
  await mkdir(SHOTS, { recursive: true });
  host = await startTestHost({
    rendererDir: join(ROOT, 'out', 'renderer'),
    dataDir,
    datasetDir: await mnistSubset(6000, 1000),
    // The trainer as built for the app, with two data-parallel threads.
    spawnTrainer: builtTrainer(join(ROOT, 'out', 'main'), join(ROOT, 'build', 'wasm', 'kernels.wasm'), 2),
  });
  browser = await launch();
  ({ page, problems } = await openApp(browser, host.url));
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('Train view in Chromium', () => {
  it('starts with the dataset ready, the presets listed and no runs', async () => {
    await page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor();
    await expect.poll(() => page.getByTestId('dataset').textContent()).toMatch(/6,000 train · 1,000 test · 28×28/);
    expect(await page.getByTestId('preset').locator('option').count()).toBe(8);
    expect(await page.getByTestId('preset').inputValue()).toBe('lenet5-relu-ce-bn');
    await expect.poll(() => page.getByTestId('app-line').textContent()).toMatch(/wasm-relaxed-simd kernels · 2 threads/);
    await expect.poll(() => page.getByTestId('runs').textContent()).toMatch(/No runs yet/);
  });

  it('explains a bad hyper-parameter and will not start with it', async () => {
    await page.getByTestId('lr').fill('-1');
    await expect.poll(() => page.getByTestId('lr-error').textContent()).toMatch(/Learning rate must be a number above 0/);
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    await page.getByTestId('lr').fill('0.05');
    await page.getByTestId('lr-error').waitFor({ state: 'detached' });
    expect(await page.getByTestId('start').isEnabled()).toBe(true);
  });

  it('trains a short run: live progress and loss curve, pause/resume, epoch accuracy, then done', async () => {
    await page.getByTestId('preset').selectOption('lenet5-relu-ce');
    await page.getByTestId('epochs').fill('3');
    // Batches of 4: an epoch of 2,750 images stays well above the 100 ms between progress events,
    // so the run is still going when the test pauses it, however fast the engine gets.
    await page.getByTestId('batch').fill('4');
    await page.getByTestId('lr').fill('0.02');
    await page.getByTestId('limit').fill('3000');
    await page.getByTestId('validation').fill('250');
    await page.getByTestId('start').click();

    // Live progress: the stats, a growing loss curve.
    await page.getByTestId('progress').waitFor();
    await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points')), { timeout: 60_000 }).toBeGreaterThan(2);
    await page.screenshot({ path: join(SHOTS, 'train-running.png') });

    // Pause stops the run between batches; Resume continues it.
    await page.getByTestId('pause').click();
    await page.locator('[data-testid="run-controls"][data-state="paused"]').waitFor();
    const pointsPaused = Number(await page.getByTestId('loss-chart').getAttribute('data-points'));
    await page.waitForTimeout(500);
    expect(Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBe(pointsPaused);
    await page.getByTestId('resume').click();
    await page.locator('[data-testid="run-controls"][data-state="running"]').waitFor();

    // Per-epoch test accuracy appears, and the run finishes.
    await page.getByTestId('test-accuracy').first().waitFor({ timeout: 120_000 });
    await page.locator('[data-testid="run-controls"][data-state="done"]').waitFor({ timeout: 180_000 });
    expect(await page.getByTestId('test-accuracy').count()).toBe(3);
    const last = await page.getByTestId('test-accuracy').last().textContent();
    expect(Number(last!.replace('%', ''))).toBeGreaterThan(80);
    await expect.poll(() => page.getByTestId('outcome').textContent()).toMatch(/done/);
    await expect.poll(() => page.locator('[data-testid="run-item"][data-status="done"]').count()).toBe(1);
    // Training did not put a model on screen; the run's Latest model does, when asked.
    expect(await page.getByTestId('model-label').count()).toBe(0);
    await page.locator('[data-testid="run-item"]').first().getByRole('button', { name: 'Latest model' }).click();
    await expect.poll(() => page.getByTestId('model-label').textContent()).toMatch(/epoch 3/);
    await page.screenshot({ path: join(SHOTS, 'train-done.png') });
    // The README's picture is this view; it must stay small.
    expect(await readmeScreenshot(page)).toBeLessThanOrEqual(README_SHOT.maxBytes);
  });

  it('evaluates the model on screen through the trainer', async () => {
    await page.getByTestId('evaluate').click();
    await expect.poll(() => page.getByTestId('evaluation').textContent(), { timeout: 60_000 }).toMatch(/test \d+\.\d\d% on 1,000/);
  });

  it('saves the model with Save As…, opens it again with Open…', async () => {
    const target = join(dataDir, 'saved-from-browser');
    host.dialogAnswers.push(target);
    await page.getByTestId('model-menu').click();
    await page.getByTestId('menu-save-as').click();
    await expect.poll(() => page.getByTestId('notices').textContent()).toMatch(/Saved .*saved-from-browser\.lenet/);
    host.dialogAnswers.push(`${target}.lenet`);
    await page.getByTestId('model').getByRole('button', { name: 'Open…' }).click();
    await expect.poll(() => page.getByTestId('model-label').textContent()).toMatch(/saved-from-browser\.lenet/);
  });

  it('exports the model on screen as ONNX (File → Export → ONNX… / the Export button)', async () => {
    const target = join(dataDir, 'exported-from-browser');
    host.dialogAnswers.push(target);
    await page.getByTestId('model-menu').click();
    await page.getByTestId('menu-export-onnx').click();
    await expect.poll(() => page.getByTestId('notices').textContent()).toMatch(/Exported .*exported-from-browser\.onnx/);
    const bytes = await readFile(`${target}.onnx`);
    expect(bytes.length).toBeGreaterThan(200_000); // ~61k float weights
    expect(bytes.includes(Buffer.from('LeNet Studio'))).toBe(true); // producer name in the protobuf
  });

  it('shows a broken dataset folder with the file and the reason, keeping the current dataset', async () => {
    const bad = join(dataDir, 'not-mnist');
    await mkdir(bad);
    await writeFile(join(bad, 'train-images-idx3-ubyte'), 'hello');
    host.dialogAnswers.push(bad);
    await page.getByTestId('dataset-menu').click();
    await page.getByTestId('menu-open').click();
    await expect.poll(() => page.getByTestId('dataset-error').textContent()).toMatch(/not-mnist .*missing train-labels-idx1-ubyte/);
    expect(await page.getByTestId('dataset').textContent()).toMatch(/MNIST \(embedded\)/);
    await page.screenshot({ path: join(SHOTS, 'dataset-error.png') });
  });

  it('ran under the strict CSP with no console errors', () => {
    expect(problems).toEqual([]);
  });
});
