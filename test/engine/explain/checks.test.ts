// Integrated gradients' completeness on every preset, SmoothGrad's limits, the rank correlation,
// deletion/insertion curves, and the model-randomisation sanity check on a trained model.

import { describe, expect, it } from 'vitest';
import { deletionInsertion, Explainer, mapRank, modelRandomisation, spearman } from '../../../src/engine/explain';
import { PRESETS } from '../../../src/engine/presets';
import { Trainer } from '../../../src/engine/train';
import { loadMnist } from '../../../src/node/datasets';
import { loadGolden } from '../../helpers/golden';
import { testModels } from '../../helpers/kernels';

const build = testModels();
const golden = loadGolden('lenet5-relu-max-ce');
const image = (i: number): Float32Array => golden.input.data.slice(i * 784, (i + 1) * 784);

describe('integrated gradients: completeness', () => {
  it.each(Object.keys(PRESETS))('%s: Σ attributions = score − baselineScore within 2 % at 128 steps', (preset) => {
    const model = build(PRESETS[preset].spec).init(11);
    const ex = new Explainer(model);
    for (const i of [0, 1, 2]) {
      const x = image(i);
      for (const baseline of ['black', 'blur'] as const) {
        for (const target of [ex.predict(x), (ex.predict(x) + 5) % 10]) {
          const r = ex.explain('ig', x, target, { steps: 128, baseline });
          const delta = r.score - r.baselineScore!;
          let sum = 0;
          for (const v of r.attributions) sum += v;
          expect(Math.abs(sum - delta), `${preset} image ${i} ${baseline} target ${target}: Σ ${sum} vs Δ ${delta}`).toBeLessThanOrEqual(
            0.02 * Math.abs(delta),
          );
          expect(r.completenessGap).toBeCloseTo(sum - delta, 5);
        }
      }
    }
  });
});

describe('SmoothGrad', () => {
  it('with no noise is the plain gradient; with noise, is seeded and differs from it', () => {
    const ex = new Explainer(build(PRESETS['lenet5-relu-ce'].spec).init(3));
    const x = image(0);
    const g = ex.explain('gradient', x, 7).attributions;
    const s0 = ex.explain('smoothgrad', x, 7, { noise: 0, samples: 5 }).attributions;
    for (let i = 0; i < g.length; i++) expect(s0[i]).toBeCloseTo(g[i], 6);
    const a = ex.explain('smoothgrad', x, 7, { noise: 0.2, samples: 8, seed: 4 }).attributions;
    const b = ex.explain('smoothgrad', x, 7, { noise: 0.2, samples: 8, seed: 4 }).attributions;
    expect(Array.from(a)).toEqual(Array.from(b));
    let diff = 0;
    for (let i = 0; i < g.length; i++) diff += Math.abs(a[i] - g[i]);
    expect(diff).toBeGreaterThan(1e-3);
  });
});

describe('spearman', () => {
  it('is ±1 for monotone maps and averages ties', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 400])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks [1,2,3,4] and [1.5,1.5,3.5,3.5]: Pearson of those = 0.894427…
    expect(spearman([1, 2, 3, 4], [5, 5, 7, 7])).toBeCloseTo(2 / Math.sqrt(5), 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBe(0);
  });
});

/** LeNet-5 (ReLU, CE) trained one pass over 6000 MNIST training images: about 95 % accurate. */
async function trainedLenet(): Promise<{ ex: Explainer; test: { pixels: Uint8Array; labels: Uint8Array } }> {
  const data = await loadMnist();
  const count = 6000;
  const train = { ...data.train, count, pixels: data.train.pixels.subarray(0, count * 784), labels: data.train.labels.subarray(0, count) };
  const model = build(PRESETS['lenet5-relu-ce'].spec).init(1);
  const trainer = new Trainer(model, train, {
    epochs: 1,
    batchSize: 32,
    lr: 0.05,
    momentum: 0.9,
    decay: 0,
    schedule: { type: 'constant' },
    seed: 1,
    shuffle: true,
  });
  while (!trainer.done) trainer.step();
  return { ex: new Explainer(model), test: data.test };
}

describe('sanity checks on a trained model', () => {
  it('randomising the top layer drops the mean rank correlation of the gradient and IG maps below 0.5', async () => {
    // One image's correlation depends on the random draw of the target's fc3 row (it ranges about
    // −0.6…0.9 here); over ten correctly classified test images the mean is what the check claims.
    const { ex, test } = await trainedLenet();
    const before = ex.model.snapshot();
    const grad: number[] = [];
    const ig: number[] = [];
    for (let i = 0; grad.length < 10; i++) {
      const x = Float32Array.from(test.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
      const target = ex.predict(x);
      if (target !== test.labels[i]) continue;
      const r = modelRandomisation(ex, x, target, ['gradient', 'ig'], { steps: 32 }, i + 1);
      expect(r.steps.map((s) => s.layer)).toEqual(['fc3', 'fc2', 'fc1', 'conv2', 'conv1']);
      grad.push(r.steps[0].rank.gradient!);
      ig.push(r.steps[0].rank.ig!);
    }
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(grad), `gradient: ${grad.map((v) => v.toFixed(2))}`).toBeLessThan(0.5);
    expect(mean(ig), `IG: ${ig.map((v) => v.toFixed(2))}`).toBeLessThan(0.5);
    // The model is put back as it was, and its own maps correlate perfectly with themselves.
    expect(Array.from(ex.model.params)).toEqual(Array.from(before.params));
    const x = Float32Array.from(test.pixels.subarray(0, 784), (v) => v / 255);
    const g = ex.explain('gradient', x, test.labels[0]).attributions;
    expect(mapRank(g, g, false)).toBeCloseTo(1, 12);
  });

  it('deletion and insertion curves: end points, area, and a real map beats its reverse', async () => {
    const { ex, test } = await trainedLenet();
    const x = Float32Array.from(test.pixels.subarray(0, 784), (v) => v / 255);
    const target = test.labels[0];
    const ig = ex.explain('ig', x, target, { steps: 32 }).attributions;
    const { deletion, insertion } = deletionInsertion(ex, x, target, ig, 28);
    const p = (img: Float32Array): number => ex.classScores(img, 1)[target];
    expect(deletion.fraction).toHaveLength(29);
    expect(deletion.fraction[0]).toBe(0);
    expect(deletion.fraction[28]).toBe(1);
    expect(deletion.score[0]).toBeCloseTo(p(x), 5);
    expect(deletion.score[28]).toBeCloseTo(p(new Float32Array(784)), 5);
    expect(insertion.score[0]).toBeCloseTo(p(ex.baselineOf(x, 'blur')), 5);
    expect(insertion.score[28]).toBeCloseTo(p(x), 5);
    // After the top 5 % of pixels are gone, the image is the input with exactly those set to 0.
    const order = Array.from({ length: 784 }, (_, i) => i).sort((a, b) => ig[b] - ig[a]);
    const k = Math.round(784 / 28);
    const cut = x.slice();
    for (const j of order.slice(0, k)) cut[j] = 0;
    expect(deletion.score[1]).toBeCloseTo(p(cut), 5);
    let auc = 0;
    for (let i = 1; i < 29; i++) auc += (deletion.score[i] + deletion.score[i - 1]) / 2 / 28;
    expect(deletion.auc).toBeCloseTo(auc, 6);
    const reversed = deletionInsertion(
      ex,
      x,
      target,
      ig.map((v) => -v),
      28,
    );
    expect(deletion.auc).toBeLessThan(reversed.deletion.auc);
    expect(insertion.auc).toBeGreaterThan(reversed.insertion.auc);
  });
});
