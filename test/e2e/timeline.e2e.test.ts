// The time machine in Chromium (test host, small MNIST): the epoch slider on Inspect and Evaluate
// puts a run's epoch snapshot on screen and the shown numbers become that snapshot's (checked
// against the engine in Node and the backend's own evaluation of that epoch's file); dragging
// never has two snapshot loads in flight and ends on the last epoch chosen; the learned/forgotten
// galleries agree with the evaluations of two epochs; the Health view lists a bad run's flags and
// a flag opens Inspect at its epoch and layer. Screenshots of both, 1280×800 and 960×640, light
// and dark, under test-results/timeline/.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation, RunSummary } from '../../src/common/records';
import { jsKernels } from '../../src/engine/kernels/js/backend';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { Inspector } from '../../src/renderer/src/lib/inspector';
import { toInput } from '../../src/renderer/src/lib/preprocess';
import { mnistSubset } from '../helpers/mnist-subset';
import { SHOTS, startApp, trainRun, type App } from './app';

const SIZES = [
  { width: 1280, height: 800 },
  { width: 960, height: 640 },
] as const;
const TRAIN = 2000;
const TEST = 500;

let app: App;
let good: RunSummary;
let bad: RunSummary;
let data: MnistData;

beforeAll(async () => {
  app = await startApp({ train: TRAIN, test: TEST, colorScheme: 'light' });
  await mkdir(join(SHOTS, 'timeline'), { recursive: true });
  data = await loadMnist(await mnistSubset(TRAIN, TEST));
  good = await trainRun(app.host, 'lenet5-relu-ce', { epochs: 3, limit: 1500, validation: 200 });
  // A learning rate far too high: most ReLUs die (flags), without diverging; cut to a tenth after epoch 1 (a marker).
  bad = await trainRun(app.host, 'lenet5-relu-ce', { epochs: 2, limit: 1000, validation: 100, lr: 0.5, schedule: { type: 'step', every: 1, gamma: 0.1 } });
}, 300_000);
afterAll(async () => app?.close());

async function shots(name: string): Promise<void> {
  const { page } = app;
  for (const t of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: t });
    for (const s of SIZES) {
      await page.setViewportSize(s);
      await page.waitForTimeout(250);
      await app.shot(`timeline/${name}-${s.width}x${s.height}-${t}`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(SIZES[0]);
}

/** The exact numbers in an element's title ("min 0.1, max 2, mean 0.5"; "class 3: score 0.25"). */
async function numbersIn(el: Locator): Promise<number[]> {
  const title = (await el.getAttribute('title')) ?? '';
  return [...title.matchAll(/(?:min|max|mean|score) (-?[\d.e+-]+)/g)].map((m) => Number(m[1]));
}

async function scoresOnPage(): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < 10; k++) out.push(...(await numbersIn(app.page.getByTestId(`score-${k}`))));
  return out;
}

/** Moves the slider to the stop of `epoch` (the good run keeps every epoch: stop = epoch − 1) and waits until it is on screen. */
async function slideTo(epoch: number): Promise<void> {
  const { page } = app;
  await page.getByTestId('epoch-range').fill(String(epoch - 1));
  await expect.poll(() => page.getByTestId('epoch-slider').getAttribute('data-epoch')).toBe(String(epoch));
  await expect.poll(() => page.getByTestId('epoch-slider').getAttribute('data-loading')).toBe('false');
}

describe('the epoch slider', () => {
  it('on Inspect: the header says "run, epoch N" and the scores and activations are epoch N’s snapshot’s', async () => {
    const { page, host } = app;
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"]', { hasText: '3/3 epochs' }).getByRole('button', { name: 'Latest model' }).click();
    await expect.poll(() => page.getByTestId('model-label').textContent()).toContain(`${good.id}, epoch 3`);
    await page.getByTestId('nav-inspect').click();
    await page.getByTestId('pick-index').fill('7');
    await page.getByTestId('pick-go').click();
    await page.getByTestId('scores').waitFor();
    expect(await page.getByTestId('epoch-slider').getAttribute('data-epoch')).toBe('3');

    const input = toInput(data.test.pixels, 7 * 784, 784);
    const seen: string[] = [];
    for (const epoch of [1, 2, 3]) {
      await slideTo(epoch);
      expect(await page.getByTestId('model-label').textContent()).toContain(`${good.id}, epoch ${epoch}`);
      const ref = new Inspector(await host.studio.runEpochModel(good.id, epoch), jsKernels).inspect(input);
      await expect.poll(() => page.getByTestId('predicted').textContent()).toBe(String(ref.predicted));
      // The page runs its own kernels (WebAssembly): equal to the engine's to float rounding.
      await expect.poll(() => scoresOnPage(), { timeout: 10_000 }).toEqual(Array.from(ref.scores, (v) => expect.closeTo(v, 5)));
      const conv1 = ref.activations.find((a) => a.name === 'conv1')!;
      await expect.poll(() => numbersIn(page.getByTestId('stats-conv1'))).toEqual([conv1.min, conv1.max, conv1.mean].map((v) => expect.closeTo(v, 4)));
      seen.push((await page.getByTestId('stats-conv1').getAttribute('title'))!);
    }
    // Three epochs, three different sets of numbers (the test would pass vacuously otherwise).
    expect(new Set(seen).size).toBe(3);
    await slideTo(2);
    await shots('inspect-slider');
  });

  it('after a restart the chosen epoch is back; dragging: at most one snapshot load in flight, fewer loads than moves, and the last epoch chosen ends on screen', async () => {
    const { page, host } = app;
    // A restart: the epoch chosen comes back, and the renderer has no snapshot cached.
    await page.reload();
    await page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor();
    await expect.poll(() => page.getByTestId('model-label').textContent()).toContain(`${good.id}, epoch 2`);
    await page.getByTestId('nav-inspect').click();
    await page.getByTestId('pick-index').fill('7');
    await page.getByTestId('pick-go').click();
    await page.getByTestId('scores').waitFor();
    const studio = host.studio;
    const original = studio.runEpochModel.bind(studio);
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    studio.runEpochModel = async (id, epoch) => {
      calls++;
      most = Math.max(most, ++inFlight);
      try {
        await new Promise((r) => setTimeout(r, 150)); // a slow disk
        return await original(id, epoch);
      } finally {
        inFlight--;
      }
    };
    try {
      // 24 moves, 15 ms apart, back and forth; ends on epoch 1 (stop 0).
      await page.getByTestId('epoch-range').evaluate(async (el: HTMLInputElement) => {
        const stops = [2, 1, 0, 1, 2, 1, 0, 2, 1, 0, 1, 2, 0, 1, 2, 1, 0, 2, 1, 2, 0, 1, 2, 0];
        for (const s of stops) {
          el.value = String(s);
          el.dispatchEvent(new Event('input', { bubbles: true }));
          await new Promise((r) => setTimeout(r, 15));
        }
      });
      await expect.poll(() => page.getByTestId('epoch-slider').getAttribute('data-loading')).toBe('false');
      expect(await page.getByTestId('epoch-slider').getAttribute('data-epoch')).toBe('1');
      expect(await page.getByTestId('model-label').textContent()).toContain(`${good.id}, epoch 1`);
      const ref = new Inspector(await original(good.id, 1), jsKernels).inspect(toInput(data.test.pixels, 7 * 784, 784));
      await expect.poll(() => scoresOnPage()).toEqual(Array.from(ref.scores, (v) => expect.closeTo(v, 5)));
      expect(most).toBe(1);
      expect(calls).toBeLessThan(24);
    } finally {
      studio.runEpochModel = original;
    }
  });

  it('on Evaluate: accuracy, confusion and misclassified are the backend’s evaluation of epoch N’s file; learned/forgotten agree with two epochs’ evaluations', async () => {
    const { page, host } = app;
    await page.getByTestId('nav-evaluate').click();
    const evals: Evaluation[] = [];
    for (const epoch of [1, 2, 3]) evals.push(await host.studio.evaluateModel(await host.studio.runEpochModel(good.id, epoch)));
    expect(new Set(evals.map((e) => e.accuracy)).size).toBeGreaterThan(1);
    for (const epoch of [3, 1, 2]) {
      await slideTo(epoch);
      const ev = evals[epoch - 1];
      await expect.poll(() => page.getByTestId('eval-summary').getAttribute('title'), { timeout: 60_000 }).toBe(String(ev.accuracy));
      const wrong = Array.from(ev.predictions).filter((p, i) => p !== data.test.labels[i]).length;
      expect(await page.getByTestId('tab-wrong').textContent()).toContain(`Misclassified (${wrong})`);
    }
    // At epoch 2: learned = wrong at epoch 1 and right at 2; forgotten the other way.
    const right = (e: number, i: number): boolean => evals[e - 1].predictions[i] === data.test.labels[i];
    const learned: number[] = [];
    const forgotten: number[] = [];
    for (let i = 0; i < TEST; i++) {
      if (!right(1, i) && right(2, i)) learned.push(i);
      if (right(1, i) && !right(2, i)) forgotten.push(i);
    }
    expect(learned.length).toBeGreaterThan(0);
    await page.getByTestId('tab-learned').click();
    await expect.poll(() => page.getByTestId('tab-learned').textContent()).toContain(`Learned (${learned.length})`);
    expect(await page.getByTestId('tab-forgotten').textContent()).toContain(`Forgotten (${forgotten.length})`);
    await page.getByTestId('gallery').waitFor();
    await shots('evaluate-slider-learned');
    // A learned digit opens in Inspect at this epoch.
    const first = page.getByTestId('gallery').locator('[data-index]').first();
    const index = Number(await first.getAttribute('data-index'));
    expect(learned).toContain(index);
    await first.click();
    await page.getByTestId('inspect-view').waitFor();
    await expect.poll(() => page.getByTestId('digit-source').textContent()).toContain(`test #${index}`);
    expect(await page.getByTestId('model-label').textContent()).toContain(`${good.id}, epoch 2`);
    expect(Number(await page.getByTestId('predicted').textContent())).toBe(data.test.labels[index]);
  });
});

describe('the Health view', () => {
  it('shows a bad run’s flags; a flag opens Inspect at its epoch, at its layer; another run overlays; the header keeps its height', async () => {
    const { page, host } = app;
    const heights: number[] = [];
    for (const s of SIZES) {
      await page.setViewportSize(s);
      heights.push((await page.locator('header').boundingBox())!.height);
    }
    await page.setViewportSize(SIZES[0]);
    await page.getByTestId('nav-health').click();
    await page.getByTestId('health-run').selectOption(bad.id);
    const expected = await host.studio.runHealth(bad.id);
    expect(expected.flags.some((f) => f.kind === 'dead-relu')).toBe(true);
    await page.getByTestId('flags').waitFor();
    await expect.poll(() => page.getByTestId('flags').locator('li').count()).toBe(expected.flags.length);
    for (const [i, f] of expected.flags.entries()) {
      const li = page.getByTestId('flags').locator('li').nth(i);
      expect(await li.getAttribute('data-kind')).toBe(f.kind);
      expect(await li.textContent()).toContain(f.message);
    }
    await page.getByTestId('health-overlay').selectOption(good.id);
    await expect.poll(() => page.getByTestId('band-charts').locator('canvas').count()).toBeGreaterThanOrEqual(5);
    await expect.poll(() => page.getByTestId('band-conv1').getAttribute('data-points')).toBe(String(2 + 3));
    // The learning-rate change is marked at epoch 2, on every chart.
    expect(expected.metrics.map((m) => m.lr)).toEqual([0.5, expect.closeTo(0.05, 8)]);
    expect(await page.getByTestId('band-conv1').getAttribute('data-markers')).toBe('2 lr 0.050');
    await shots('health');
    // The header: one height at 1280 and 960 with the Health tab.
    for (const s of SIZES) {
      await page.setViewportSize(s);
      expect((await page.locator('header').boundingBox())!.height).toBe(heights[0]);
    }
    expect(heights[1]).toBe(heights[0]);
    await page.setViewportSize(SIZES[0]);

    const flag = expected.flags.find((f) => f.kind === 'dead-relu')!;
    const i = expected.flags.indexOf(flag);
    await page.getByTestId('flags').locator('li').nth(i).getByRole('button').click();
    await page.getByTestId('inspect-view').waitFor();
    await expect.poll(() => page.getByTestId('model-label').textContent()).toContain(`${bad.id}, epoch ${flag.epoch}`);
    await expect.poll(() => page.getByTestId(`layer-row-${flag.layer}`).getAttribute('class')).toContain('focused');
  });
});
