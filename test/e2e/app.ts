// Shared set-up for the inspector's browser tests: the test host (real studio and trainer) on
// a small MNIST, Chromium at 1280×800, screenshots under test-results/, and short training runs
// started through the studio the UI talks to (for tests whose subject is not training itself).

import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { ModelPayload, RunSummary } from '../../src/common/records';
import type { TrainSettings } from '../../src/common/settings';
import { mnistSubset } from '../helpers/mnist-subset';
import { launch, openApp } from './browser';
import { builtTrainer, startTestHost, type TestHost } from './host/server';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SHOTS = join(ROOT, 'test-results');

export interface App {
  host: TestHost;
  browser: Browser;
  page: Page;
  /** Console errors and page errors seen so far. */
  problems: string[];
  dataDir: string;
  shot(name: string): Promise<void>;
  /** Quits the studio and starts a new one on the same data folder (as closing and reopening the app), and reloads the page from it. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startApp(opts: { train?: number; test?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<App> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lenet-e2e-'));
  await mkdir(SHOTS, { recursive: true });
  const datasetDir = await mnistSubset(opts.train ?? 6000, opts.test ?? 1000);
  const newHost = (): Promise<TestHost> =>
    startTestHost({
      rendererDir: join(ROOT, 'out', 'renderer'),
      dataDir,
      datasetDir,
      // The trainer as built for the app; one thread (the tests' runs are tiny).
      spawnTrainer: builtTrainer(join(ROOT, 'out', 'main'), join(ROOT, 'build', 'wasm', 'kernels.wasm'), 1),
    });
  const host = await newHost();
  const browser = await launch();
  const { page, problems } = await openApp(browser, host.url);
  if (opts.colorScheme) await page.emulateMedia({ colorScheme: opts.colorScheme });
  const ready = () => page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor();
  await ready();
  const app: App = {
    host,
    browser,
    page,
    problems,
    dataDir,
    shot: async (name) => {
      await page.screenshot({ path: join(SHOTS, `${name}.png`) });
    },
    restart: async () => {
      await app.host.close();
      app.host = await newHost();
      await page.goto(app.host.url);
      await ready();
    },
    close: async () => {
      await browser.close();
      await app.host.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return app;
}

/** The README's picture (docs/screenshot.png): the 1280×800 page scaled to 3/4, a PNG under 160 KiB (nine tabs, the run filters and their actions made 150 a coin toss). */
export const README_SHOT = { width: 960, height: 600, maxBytes: 160 * 1024, path: join(ROOT, 'docs', 'screenshot.png') };

/**
 * Saves the page as the README's picture to test-results/readme.png and returns its size in bytes:
 * the page as it is, scaled down by Chromium in a blank tab (the layout stays the real one).
 * `LENET_UPDATE_SCREENSHOT=1 npm run test:e2e` also copies it to docs/screenshot.png (committed;
 * an ordinary run leaves docs/ alone).
 */
export async function readmeScreenshot(page: Page): Promise<number> {
  const full = await page.screenshot();
  const browser = page.context().browser();
  if (!browser) throw new Error('no browser for the README screenshot');
  const tab = await browser.newPage();
  try {
    const { width, height } = README_SHOT;
    await tab.setViewportSize({ width, height });
    await tab.setContent(
      `<body style="margin:0"><img style="display:block;width:${width}px;height:${height}px" src="data:image/png;base64,${full.toString('base64')}"></body>`,
    );
    await tab.locator('img').evaluate((img: HTMLImageElement) => img.decode());
    await tab.screenshot({ path: join(SHOTS, 'readme.png') });
  } finally {
    await tab.close();
  }
  if (process.env.LENET_UPDATE_SCREENSHOT === '1') await copyFile(join(SHOTS, 'readme.png'), README_SHOT.path);
  return (await stat(join(SHOTS, 'readme.png'))).size;
}

export const QUICK: TrainSettings = {
  epochs: 1,
  batchSize: 32,
  lr: 0.05,
  momentum: 0.9,
  decay: 0,
  schedule: { type: 'constant' },
  seed: 1,
  shuffle: true,
  limit: 3000,
  validation: 300,
};

/** Starts a run through the studio (as the Start button does) and waits for it to finish. */
export async function trainRun(host: TestHost, preset: string, settings: Partial<TrainSettings> = {}, timeoutMs = 180_000): Promise<RunSummary> {
  const { runId } = await host.studio.startRun(preset, { ...QUICK, ...settings });
  const end = Date.now() + timeoutMs;
  for (;;) {
    const run = (await host.studio.listRuns()).find((r) => r.id === runId);
    // Finished on disk, and the trainer has let go of it (so the next run may start).
    if (run && run.status !== 'running' && run.status !== 'paused' && !host.studio.trainer.activeRuns().includes(runId)) {
      if (run.status !== 'done') throw new Error(`run ${runId} ended ${run.status}: ${run.reason ?? ''}`);
      return run;
    }
    if (Date.now() > end) throw new Error(`run ${runId} did not finish in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Saves a run's final model as a .lenet file, as File → Save As… does, and returns its path. */
export async function saveRunModel(app: App, runId: string, name: string): Promise<{ path: string; model: ModelPayload }> {
  const model = await app.host.studio.runModel(runId, 'latest');
  app.host.dialogAnswers.push(join(app.dataDir, name));
  const saved = await app.host.studio.saveModel(model, true);
  if (!saved) throw new Error('the save dialog was cancelled');
  return { path: saved.path, model };
}
