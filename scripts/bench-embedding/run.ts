// Embedding view benchmark on the full MNIST test set (10,000 digits): how long the map takes —
// the embeddings (a forward pass over every test digit), PCA, UMAP's neighbour search and its
// layout — on one thread in this process, then through the app (the studio's worker, cold and
// from the cache), and how long Chromium takes to draw the 10,000 points and the digit sprites.
//   npm run build && npx tsx scripts/bench-embedding/run.ts [--draw-only]
// Trains a short LeNet-5 (1 epoch on 6,000 images) through the studio first, so the map has the
// structure of a trained model. A benchmark, not a test: it asserts nothing.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist } from '../../src/node/datasets';
import { computeProjection, type ProjectionJob } from '../../src/node/studio/projection';
import { builtTrainer, startTestHost } from '../../test/e2e/host/server';
import { launch, openApp } from '../../test/e2e/browser';
import { ROOT, trainRun } from '../../test/e2e/app';

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const ms = (t: number): string => `${t.toFixed(0)} ms`;

const dataDir = await mkdtemp(join(tmpdir(), 'lenet-bench-embedding-'));
const datasetDir = join(ROOT, 'resources', 'mnist');
const host = await startTestHost({
  rendererDir: join(ROOT, 'out', 'renderer'),
  dataDir,
  datasetDir,
  spawnTrainer: builtTrainer(join(ROOT, 'out', 'main'), join(ROOT, 'build', 'wasm', 'kernels.wasm'), 1),
});
const rows: [string, string][] = [];
try {
  process.stderr.write('training a short LeNet-5 (1 epoch, 6,000 images)…\n');
  const run = await trainRun(host, 'lenet5-relu-ce-bn', { limit: 6000, validation: 500, epochs: 1 }, 600_000);
  const model = await host.studio.runModel(run.id, 'latest');
  const data = await loadMnist(datasetDir);

  const drawOnly = process.argv.includes('--draw-only');
  // 1. The computation itself, on this thread, phase by phase.
  for (const method of drawOnly ? [] : (['pca', 'umap'] as const)) {
    const job: ProjectionJob = {
      method,
      spec: model.spec,
      params: model.params,
      buffers: model.buffers,
      pixels: data.test.pixels,
      labels: data.test.labels,
      count: data.test.count,
      seed: 42,
    };
    const marks = new Map<string, number>();
    const t0 = performance.now();
    computeProjection(job, (phase, done, total) => {
      if (done === total) marks.set(phase, performance.now());
    });
    const end = performance.now();
    const emb = (marks.get('embedding') ?? t0) - t0;
    rows.push([`${method.toUpperCase()}, one thread: embeddings of ${data.test.count} digits (TypeScript kernels) + predictions`, ms(emb)]);
    if (method === 'pca') rows.push(['PCA of the 10,000 × 84 embeddings (after them)', ms(end - (marks.get('embedding') ?? t0))]);
    else {
      const nn = marks.get('neighbours') ?? t0;
      rows.push(['UMAP neighbour search (after the embeddings)', ms(nn - (marks.get('embedding') ?? t0))]);
      rows.push(['UMAP layout (all epochs)', ms(end - nn)]);
    }
    process.stderr.write(`${method}: ${ms(end - t0)}\n`);
  }

  // 2. Through the studio: the worker, then the cache.
  for (const method of drawOnly ? [] : (['pca', 'umap'] as const)) {
    let t = performance.now();
    await host.studio.embeddingProjection(model, method);
    rows.push([`studio.embeddingProjection ${method}, cold (worker start + all of it)`, ms(performance.now() - t)]);
    t = performance.now();
    await host.studio.embeddingProjection(model, method);
    rows.push([`studio.embeddingProjection ${method}, cached`, ms(performance.now() - t)]);
  }

  // 3. The draw in Chromium (the map reports each draw's time on its canvas).
  const browser = await launch();
  try {
    const { page } = await openApp(browser, host.url);
    await page.getByTestId('dataset').and(page.locator('[data-state="ready"]')).waitFor({ timeout: 120_000 });
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"]').first().getByRole('button', { name: 'Latest model' }).click();
    await page.getByTestId('model-label').waitFor();
    await page.getByTestId('nav-embedding').click();
    const canvas = page.getByTestId('embedding-canvas');
    await canvas.and(page.locator('[data-drawn="10000"]')).waitFor({ timeout: 120_000 });
    const drawMs = async (): Promise<number> => Number(await canvas.getAttribute('data-draw-ms'));
    const dots: number[] = [];
    for (let k = 0; k < 10; k++) {
      await page.getByTestId(k % 2 ? 'colour-label' : 'colour-correct').click();
      await page.waitForTimeout(100);
      dots.push(await drawMs());
    }
    rows.push(['Chromium: draw 10,000 dots (median of 10)', `${median(dots).toFixed(1)} ms`]);
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let k = 0; k < 8 && Number(await canvas.getAttribute('data-sprites')) === 0; k++) {
      await page.mouse.wheel(0, -400);
      await page.waitForTimeout(150);
    }
    const sprites: number[] = [];
    for (let k = 0; k < 10; k++) {
      await page.keyboard.press(k % 2 ? 'ArrowLeft' : 'ArrowRight');
      await page.waitForTimeout(100);
      sprites.push(await drawMs());
    }
    rows.push([`Chromium: draw zoomed in, ${await canvas.getAttribute('data-sprites')} digit sprites (median of 10)`, `${median(sprites).toFixed(1)} ms`]);
  } finally {
    await browser.close();
  }
} finally {
  await host.close();
  await rm(dataDir, { recursive: true, force: true });
}
console.log('| what | time |');
console.log('|---|---:|');
for (const [what, t] of rows) console.log(`| ${what} | ${t} |`);
