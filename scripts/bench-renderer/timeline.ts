// Time-machine benchmark: how long a step of the epoch slider takes, as a person sees it, in the
// app's renderer (built, `npm run build` first) on the test host with the real studio and trainer:
//   - Inspect: from the slider's input event until the inspected digit's numbers are those of the
//     new epoch and a frame is drawn (the snapshot read from epochs/NNN.lenet and sent to the
//     page, the engine model rebuilt, forward pass + saliency, Vue's update). "cold": the epoch's
//     first visit; "cached": the renderer already holds that snapshot.
//   - Evaluate: from the input event until the confusion matrix of the new epoch is on screen
//     (the trainer process evaluates all 10,000 MNIST test digits).
//   npx tsx scripts/bench-renderer/timeline.ts
// Trains a 6-epoch run on 1,000 training images first (about a minute). A benchmark, not a test.

import { cpus, loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import { startApp, trainRun } from '../../test/e2e/app';

const EPOCHS = 6;

function summary(name: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const median = s[s.length >> 1];
  return `| ${name} | ${s.length} | ${median.toFixed(1)} | ${s[0].toFixed(1)} | ${s[s.length - 1].toFixed(1)} |`;
}

/** Moves the slider to stop `stop`; resolves with the milliseconds until `done()` holds in the page and a frame has been drawn. */
async function step(page: Page, stop: number, done: 'inspect' | 'evaluate'): Promise<number> {
  return page.getByTestId('epoch-range').evaluate(
    // No named helpers inside: tsx would wrap them in a __name() the page does not have.
    async (el: HTMLInputElement, [stop, done]) => {
      const before = document.querySelector('[data-testid="stats-conv1"]')?.getAttribute('title');
      const t0 = performance.now();
      el.value = String(stop);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      const slider = document.querySelector('[data-testid="epoch-slider"]')!;
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        if (slider.getAttribute('data-loading') !== 'false' || slider.getAttribute('data-epoch') !== String(stop + 1)) continue;
        if (done === 'inspect' && document.querySelector('[data-testid="stats-conv1"]')?.getAttribute('title') !== before) break;
        if (done === 'evaluate' && document.querySelector('[data-testid="eval-summary"]')) break;
      }
      await new Promise((r) => requestAnimationFrame(r));
      return performance.now() - t0;
    },
    [stop, done] as const,
  );
}

const app = await startApp({ train: 2000, test: 10_000 });
try {
  const run = await trainRun(app.host, 'lenet5-relu-ce', { epochs: EPOCHS, limit: 1000, validation: 100 }, 600_000);
  const { page } = app;
  await page.getByTestId('nav-train').click();
  await page.getByTestId('run-item').first().getByRole('button', { name: 'Latest model' }).click();
  await page.getByTestId('model-label').waitFor();
  await page.getByTestId('nav-inspect').click();
  await page.getByTestId('pick-index').fill('0');
  await page.getByTestId('pick-go').click();
  await page.getByTestId('scores').waitFor();
  await page.getByTestId('epoch-slider').waitFor();

  const cold: number[] = [];
  const cached: number[] = [];
  // Epochs 5, 4, …, 1 for the first time, then back and forth among them.
  for (let s = EPOCHS - 2; s >= 0; s--) cold.push(await step(page, s, 'inspect'));
  for (let i = 0; i < 20; i++) cached.push(await step(page, i % 2 ? 0 : EPOCHS - 2, 'inspect'));

  await page.getByTestId('nav-evaluate').click();
  await page.getByTestId('eval-summary').waitFor({ timeout: 120_000 });
  const evaluate: number[] = [];
  // The slider is at stop 0 (epoch 1) now; each step goes to another epoch.
  for (const s of [3, 1, 4, 2, 0, 3, 1, 4]) evaluate.push(await step(page, s, 'evaluate'));

  // Other work on the machine slows every step: the load average says how busy it was.
  console.log(
    `Chromium ${app.browser.version()} · run ${run.id} · ${EPOCHS} epoch snapshots of lenet5-relu-ce · test set 10,000 digits · the test host's trainer on 1 thread · ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}\n`,
  );
  console.log('| epoch slider step | steps | median ms | min ms | max ms |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(summary('Inspect, snapshot not yet loaded (read + send + forward + saliency + draw)', cold));
  console.log(summary('Inspect, snapshot cached in the renderer', cached));
  console.log(summary('Evaluate, 10,000 test digits at another epoch', evaluate));
} finally {
  await app.close();
}
