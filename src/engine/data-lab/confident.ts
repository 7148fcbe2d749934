// Confident learning (Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty in
// Dataset Labels", JAIR 2021): which training images are probably mislabelled, from out-of-sample
// predicted probabilities. Pure maths, no I/O; the K-fold training that produces the
// probabilities lives in src/node/data-lab.
//
// Notation as in the paper: ỹ is the given (possibly noisy) label, y* the true one, p̂(j | x) the
// out-of-sample probability of class j for image x.
//   threshold t_j    = mean of p̂(j | x) over the images whose given label is j (the class's
//                      average self-confidence)
//   confident joint  C[i][j] = how many images with ỹ = i are "confidently" of class j: p̂(j | x) ≥ t_j,
//                      and j has the largest p̂ among the classes that pass their threshold
//   calibrated joint Q[i][j]: each row of C rescaled to the number of images given label i, then the
//                      whole matrix divided by its sum (an estimate of the joint distribution of ỹ, y*)
// The off-diagonal mass of Q, times the number of images, estimates how many labels are wrong.
//
// Ranking: every image, most suspicious first, by its self-confidence p̂(ỹ | x), lowest first (the
// paper's and cleanlab's default ranking); the `score` is 1 − p̂(ỹ | x), in [0, 1], higher = more
// suspicious. Ties: an image off the confident joint's diagonal first, then file order.

// ---------------------------------------------------------------- types

export interface ConfidentLearning {
  classes: number;
  /** t_j per class; NaN for a class no image is labelled with (nothing can be confidently of it). */
  thresholds: Float64Array;
  /** C[given][true] counts, classes × classes, row-major. */
  confidentJoint: Int32Array;
  /** Q[given][true], classes × classes, row-major; sums to 1 (all zeros when C is empty). */
  calibratedJoint: Float64Array;
  /** Estimated number of wrong labels: round(n × off-diagonal mass of Q). */
  estimatedIssues: number;
  /** 1 for an image counted off the diagonal of C (confidently of another class than its label). */
  offDiagonal: Uint8Array;
  /** The confident class of each image (argmax among classes at or above threshold), or -1 when none passes. */
  confidentClass: Int16Array;
  /** Suggested label per image: its confident class if any, else its most probable class. */
  suggested: Uint8Array;
  /** 1 − p̂(ỹ | x) per image. */
  score: Float64Array;
  /** Every image index, most suspicious first. */
  order: Uint32Array;
}

// ---------------------------------------------------------------- maths

/** Per-class thresholds: mean p̂(j | x) over images labelled j (NaN for a class with no images). */
export function perClassThresholds(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): Float64Array {
  const sum = new Float64Array(classes);
  const count = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    sum[y] += probs[i * classes + y];
    count[y]++;
  }
  const t = new Float64Array(classes);
  for (let j = 0; j < classes; j++) t[j] = count[j] > 0 ? sum[j] / count[j] : Number.NaN;
  return t;
}

/**
 * The confident joint and everything derived from it. `probs` holds n × classes probabilities
 * (rows summing to 1), `labels` the n given labels (each below `classes`).
 */
export function confidentLearning(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): ConfidentLearning {
  const n = labels.length;
  if (probs.length !== n * classes) throw new RangeError(`confident learning: ${probs.length} probabilities for ${n} images × ${classes} classes`);
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0 && labels[i] < classes)) throw new RangeError(`confident learning: label ${labels[i]} of image ${i} is not a class below ${classes}`);
  }
  const K = classes;
  const thresholds = perClassThresholds(probs, labels, K);
  const C = new Int32Array(K * K);
  const confidentClass = new Int16Array(n).fill(-1);
  const suggested = new Uint8Array(n);
  const offDiagonal = new Uint8Array(n);
  const score = new Float64Array(n);
  for (let x = 0; x < n; x++) {
    const o = x * K;
    let best = -1;
    let top = 0;
    for (let j = 0; j < K; j++) {
      const p = probs[o + j];
      // A NaN threshold (no image labelled j) never passes; ties go to the lower class.
      if (p >= thresholds[j] && (best < 0 || p > probs[o + best])) best = j;
      if (p > probs[o + top]) top = j;
    }
    const y = labels[x];
    confidentClass[x] = best;
    suggested[x] = best >= 0 ? best : top;
    if (best >= 0) {
      C[y * K + best]++;
      if (best !== y) offDiagonal[x] = 1;
    }
    score[x] = 1 - probs[o + y];
  }

  // Calibration (the paper's eq. 2): row i of C rescaled to sum to |{x : ỹ = i}|, then normalised.
  const given = new Float64Array(K);
  for (let x = 0; x < n; x++) given[labels[x]]++;
  const Q = new Float64Array(K * K);
  let total = 0;
  for (let i = 0; i < K; i++) {
    let row = 0;
    for (let j = 0; j < K; j++) row += C[i * K + j];
    if (row === 0) continue;
    for (let j = 0; j < K; j++) {
      Q[i * K + j] = (C[i * K + j] / row) * given[i];
      total += Q[i * K + j];
    }
  }
  let off = 0;
  if (total > 0) {
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        Q[i * K + j] /= total;
        if (i !== j) off += Q[i * K + j];
      }
    }
  }

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => score[b] - score[a] || offDiagonal[b] - offDiagonal[a] || a - b);
  return {
    classes: K,
    thresholds,
    confidentJoint: C,
    calibratedJoint: Q,
    estimatedIssues: Math.round(n * off),
    offDiagonal,
    confidentClass,
    suggested,
    score,
    order,
  };
}

/** One line of the ranking, as the CLI prints it and the app shows it. */
export interface LabelIssue {
  /** 0-based position in the training IDX file. */
  index: number;
  label: number;
  suggested: number;
  score: number;
}

/** The first `limit` images of the ranking (all when absent), `index` mapped through `indexOf` (identity when absent). */
export function rankedIssues(cl: ConfidentLearning, labels: ArrayLike<number>, limit?: number, indexOf?: (i: number) => number): LabelIssue[] {
  const m = Math.min(limit ?? cl.order.length, cl.order.length);
  const out: LabelIssue[] = new Array(m);
  for (let r = 0; r < m; r++) {
    const i = cl.order[r];
    out[r] = { index: indexOf ? indexOf(i) : i, label: labels[i], suggested: cl.suggested[i], score: cl.score[i] };
  }
  return out;
}
