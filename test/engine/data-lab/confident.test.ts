// Confident learning on cases small enough to work out by hand: the per-class thresholds, the
// confident joint, its calibration, the ranking and the suggested labels (expected values derived
// in the comments, not by running the code).

import { describe, expect, it } from 'vitest';
import { confidentLearning, perClassThresholds, rankedIssues } from '../../../src/engine/data-lab/confident';

// 8 images, 3 classes; image 2 (labelled 0) looks like a 1, image 7 (labelled 2) looks like a 0.
const LABELS = [0, 0, 0, 1, 1, 2, 2, 2];
// prettier-ignore
const PROBS = new Float64Array([
  0.8, 0.1, 0.1,  // x0
  0.6, 0.3, 0.1,  // x1
  0.1, 0.8, 0.1,  // x2
  0.3, 0.6, 0.1,  // x3
  0.1, 0.9, 0.0,  // x4
  0.1, 0.2, 0.7,  // x5
  0.3, 0.3, 0.4,  // x6
  0.55, 0.0, 0.45, // x7
]);

describe('confident learning, by hand', () => {
  const cl = confidentLearning(PROBS, LABELS, 3);

  it('thresholds are the mean self-confidence per given label', () => {
    // t0 = (0.8+0.6+0.1)/3 = 0.5, t1 = (0.6+0.9)/2 = 0.75, t2 = (0.7+0.4+0.45)/3 = 0.51667
    expect(Array.from(cl.thresholds)).toEqual([expect.closeTo(0.5, 12), expect.closeTo(0.75, 12), expect.closeTo(1.55 / 3, 12)]);
  });

  it('the confident joint counts each image once, at its confident class', () => {
    // x0: p0 .8 ≥ .5 → 0. x1: p0 .6 → 0. x2: only p1 .8 ≥ .75 → 1. x3: nothing passes.
    // x4: p1 .9 → 1. x5: p2 .7 → 2. x6: nothing passes. x7: p0 .55 ≥ .5, p2 .45 < .517 → 0.
    expect(Array.from(cl.confidentClass)).toEqual([0, 0, 1, -1, 1, 2, -1, 0]);
    // rows: given label; columns: confident (true) class
    // prettier-ignore
    expect(Array.from(cl.confidentJoint)).toEqual([
      2, 1, 0,
      0, 1, 0,
      1, 0, 1,
    ]);
    expect(Array.from(cl.offDiagonal)).toEqual([0, 0, 1, 0, 0, 0, 0, 1]);
  });

  it('calibration rescales each row to its label count, then normalises', () => {
    // given counts 3, 2, 3. Row 0: [2,1,0]/3·3 = [2,1,0]; row 1: [0,1,0]/1·2 = [0,2,0];
    // row 2: [1,0,1]/2·3 = [1.5,0,1.5]. Sum 8 → Q = [.25,.125,0; 0,.25,0; .1875,0,.1875].
    const q = Array.from(cl.calibratedJoint);
    // prettier-ignore
    const want = [0.25, 0.125, 0, 0, 0.25, 0, 0.1875, 0, 0.1875];
    q.forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
    // off-diagonal mass .125 + .1875 = .3125; × 8 images = 2.5 → 3
    expect(cl.estimatedIssues).toBe(3);
  });

  it('ranks every image by self-confidence, lowest first; suggests the confident (else most probable) class', () => {
    // scores 1 − p(label): .2 .4 .9 .4 .1 .3 .6 .55 → x2, x6, x7, x1 = x3 (file order), x5, x0, x4
    expect(Array.from(cl.order)).toEqual([2, 6, 7, 1, 3, 5, 0, 4]);
    expect(Array.from(cl.suggested)).toEqual([0, 0, 1, 1, 1, 2, 2, 0]);
    const top = rankedIssues(cl, LABELS, 3, (i) => 100 + i);
    expect(top).toEqual([
      { index: 102, label: 0, suggested: 1, score: expect.closeTo(0.9, 12) },
      { index: 106, label: 2, suggested: 2, score: expect.closeTo(0.6, 12) },
      { index: 107, label: 2, suggested: 0, score: expect.closeTo(0.55, 12) },
    ]);
    expect(rankedIssues(cl, LABELS)).toHaveLength(8);
  });
});

describe('confident learning, edge cases', () => {
  it('a class no image is labelled with has no threshold and gets nothing in the joint', () => {
    // 2 images labelled 0 and 1 only, of 3 classes; x1 is very sure of class 2.
    const labels = [0, 1];
    const probs = new Float64Array([0.9, 0.05, 0.05, 0.0, 0.1, 0.9]);
    const cl = confidentLearning(probs, labels, 3);
    expect(Number.isNaN(cl.thresholds[2])).toBe(true);
    // x1: p1 .1 ≥ t1 = .1 (its own mean), p2 never passes a NaN threshold → confident 1, not 2
    expect(Array.from(cl.confidentClass)).toEqual([0, 1]);
    expect(Array.from(cl.confidentJoint)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(cl.estimatedIssues).toBe(0);
    // the ranking still puts it first (score .9)
    expect(Array.from(cl.order)).toEqual([1, 0]);
  });

  it('a class no image is confidently of: its column of the joint stays empty', () => {
    // labels 0,0,1,1; every image says [.9,.1]. t0 = .9, t1 = .1: for x2, x3 both classes pass and
    // class 0 has the larger probability → every image is confidently 0; column 1 is empty.
    const labels = [0, 0, 1, 1];
    const probs = new Float64Array([0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1]);
    const cl = confidentLearning(probs, labels, 2);
    expect(Array.from(cl.confidentClass)).toEqual([0, 0, 0, 0]);
    // C = [2,0; 2,0] → calibrated rows [2,0], [2,0] → Q = [.5,0; .5,0]; off-diagonal .5 × 4 = 2 issues
    expect(Array.from(cl.confidentJoint)).toEqual([2, 0, 2, 0]);
    expect(Array.from(cl.calibratedJoint)).toEqual([0.5, 0, 0.5, 0]);
    expect(cl.estimatedIssues).toBe(2);
    expect(Array.from(cl.suggested)).toEqual([0, 0, 0, 0]);
    // x2, x3 (score .9) first, in file order
    expect(Array.from(cl.order)).toEqual([2, 3, 0, 1]);
  });

  it('a given label with no images leaves its row of the joint empty and out of the calibration', () => {
    // (Every present label has an image at or above its own mean, so only an absent one has an empty row.)
    // labels 0, 1 of 3 classes: t = [.6, .6, NaN] → x0 → 0, x1 → 1; Q = [.5,0,0; 0,.5,0; 0,0,0]
    const cl = confidentLearning(new Float64Array([0.6, 0.4, 0, 0.4, 0.6, 0]), [0, 1], 3);
    expect(Array.from(cl.confidentJoint)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(Array.from(cl.calibratedJoint)).toEqual([0.5, 0, 0, 0, 0.5, 0, 0, 0, 0]);
  });

  it('ties: between classes the lower wins; between images an off-diagonal one first, then file order', () => {
    // x0 [.5,.5] labelled 0, x1 [.5,.5] labelled 1: t0 = (.5+.5)/2 = .5, t1 = (.5+.5)/2 = .5.
    // Both classes pass for both; the lower class (0) wins → x0 on the diagonal, x1 off it.
    const cl = confidentLearning(new Float64Array([0.5, 0.5, 0.5, 0.5]), [0, 1], 2);
    expect(Array.from(cl.confidentClass)).toEqual([0, 0]);
    expect(Array.from(cl.offDiagonal)).toEqual([0, 1]);
    // equal scores (.5): the off-diagonal x1 first
    expect(Array.from(cl.order)).toEqual([1, 0]);
  });

  it('all-correct data: a diagonal joint, no issues, file order', () => {
    const labels = [2, 0, 1, 0];
    const probs = new Float64Array(12);
    labels.forEach((y, i) => (probs[i * 3 + y] = 1));
    const cl = confidentLearning(probs, labels, 3);
    expect(Array.from(cl.confidentJoint)).toEqual([2, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(cl.estimatedIssues).toBe(0);
    expect(Array.from(cl.offDiagonal)).toEqual([0, 0, 0, 0]);
    expect(Array.from(cl.order)).toEqual([0, 1, 2, 3]);
    expect(Array.from(cl.suggested)).toEqual(labels);
  });

  it('perClassThresholds alone, and refuses mismatched input', () => {
    expect(Array.from(perClassThresholds([0.2, 0.8, 0.6, 0.4], [1, 0], 2))).toEqual([0.6, 0.8]);
    expect(() => confidentLearning(new Float64Array(5), [0, 1], 3)).toThrow(RangeError);
    expect(() => confidentLearning(new Float64Array(4), [0, 2], 2)).toThrow(/label 2/);
  });
});
