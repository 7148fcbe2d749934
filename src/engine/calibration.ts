// Calibration: how far a model's confidence (its top class score) matches how often it is right,
// and temperature scaling (Guo et al. 2017), which divides the logits by one fitted T > 0.
//
// Confidence is the top of `classScores`: the softmax output for cross-entropy models; for tanh/MSE
// models, which have no softmax, the outputs mapped to [0, 1] by (y+1)/2 and normalised to sum 1.
// Temperature scaling treats the log of those scores as logits: q_k ∝ s_k^(1/T). For a softmax
// model that is exactly softmax(z/T) of its logits z; it never changes which class is on top.

import { ModelFileError } from './errors';

/** Equal-width bins of the top score for ECE and the reliability diagram. */
export const CALIBRATION_BINS = 15;
/** The temperatures a model file may carry and a fit may return. */
export const TEMPERATURE_RANGE = { min: 0.01, max: 100 } as const;
/** A score of 0 counts as this much in a logarithm (float32's smallest normal is ~1e-38). */
const TINY = 1e-30;

export interface ReliabilityBin {
  /** Images whose top score falls in [k/15, (k+1)/15) (the last bin includes 1). */
  count: number;
  /** Mean top score of those images; null when the bin is empty. */
  confidence: number | null;
  /** Share of them the model classifies correctly; null when the bin is empty. */
  accuracy: number | null;
}

export interface Calibration {
  /** Expected calibration error: Σ_bins (count/N)·|accuracy − confidence|. */
  ece: number;
  reliability: ReliabilityBin[];
}

/** Bin of a top score: [k/bins, (k+1)/bins), 1 in the last. */
export function binOf(confidence: number, bins = CALIBRATION_BINS): number {
  return Math.min(bins - 1, Math.max(0, Math.floor(confidence * bins)));
}

/**
 * ECE and the reliability bins of `count` images' scores (count × K, each row summing to 1) and
 * predicted classes, against their labels. The confidence is the row's largest score.
 */
export function calibrationOf(
  scores: ArrayLike<number>,
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  K: number,
  bins = CALIBRATION_BINS,
): Calibration {
  const n = predictions.length;
  const count = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  const right = new Array<number>(bins).fill(0);
  for (let s = 0; s < n; s++) {
    let top = scores[s * K];
    for (let k = 1; k < K; k++) top = Math.max(top, scores[s * K + k]);
    const b = binOf(top, bins);
    count[b]++;
    conf[b] += top;
    if (predictions[s] === labels[s]) right[b]++;
  }
  let ece = 0;
  const reliability = count.map((c, b) => {
    if (!c) return { count: 0, confidence: null, accuracy: null };
    ece += (c / n) * Math.abs(right[b] / c - conf[b] / c);
    return { count: c, confidence: conf[b] / c, accuracy: right[b] / c };
  });
  return { ece: n ? ece : 0, reliability };
}

/** Scores of one image at temperature T, written into `out` (may be `scores` itself). */
function scaleRow(scores: ArrayLike<number>, off: number, K: number, T: number, out: Float32Array | number[], outOff: number): void {
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, Math.log(Math.max(scores[off + k], TINY)) / T);
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp(Math.log(Math.max(scores[off + k], TINY)) / T - max);
    out[outOff + k] = e;
    sum += e;
  }
  for (let k = 0; k < K; k++) out[outOff + k] /= sum;
}

/** Scores (count × K) at temperature T: a new array; T = 1 returns a copy unchanged. */
export function applyTemperature(scores: Float32Array, K: number, T: number): Float32Array {
  const out = new Float32Array(scores.length);
  if (T === 1) {
    out.set(scores);
    return out;
  }
  for (let off = 0; off < scores.length; off += K) scaleRow(scores, off, K, T, out, off);
  return out;
}

/** Mean negative log-likelihood of the labels under the scores at temperature T. */
export function temperatureNll(scores: ArrayLike<number>, labels: ArrayLike<number>, K: number, T: number): number {
  const n = labels.length;
  if (!n) return 0;
  let total = 0;
  for (let s = 0; s < n; s++) {
    const off = s * K;
    // −log q_y = −log(s_y)/T + logsumexp_k(log(s_k)/T)
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.log(Math.max(scores[off + k], TINY)) / T);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(Math.log(Math.max(scores[off + k], TINY)) / T - max);
    total += max + Math.log(sum) - Math.log(Math.max(scores[off + labels[s]], TINY)) / T;
  }
  return total / n;
}

/**
 * The temperature that minimises the NLL of the labels: golden-section search on log T over
 * TEMPERATURE_RANGE. NLL is convex in 1/T, so it has one minimum along log T; the search needs no
 * derivative and cannot step outside the bounds.
 */
export function fitTemperature(scores: ArrayLike<number>, labels: ArrayLike<number>, K: number, tolerance = 1e-5): number {
  if (!labels.length) return 1;
  const f = (u: number): number => temperatureNll(scores, labels, K, Math.exp(u));
  const g = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(TEMPERATURE_RANGE.min);
  let b = Math.log(TEMPERATURE_RANGE.max);
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > tolerance) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return Math.exp((a + b) / 2);
}

/**
 * The temperature a model file's `x-calibration` metadata carries: 1 when there is none; a
 * ModelFileError, in one line, when it is not `{"temperature": T}` with T finite in TEMPERATURE_RANGE.
 */
export function temperatureOf(meta: unknown, file: string): number {
  if (meta === undefined || meta === null) return 1;
  const bad = (what: string): ModelFileError => new ModelFileError('MODEL_BAD_HEADER', `${file}: the calibration metadata (x-calibration) ${what}`);
  if (typeof meta !== 'object' || Array.isArray(meta)) throw bad('is not an object');
  const T = (meta as Record<string, unknown>).temperature;
  if (typeof T !== 'number' || !Number.isFinite(T) || T < TEMPERATURE_RANGE.min || T > TEMPERATURE_RANGE.max) {
    throw bad(`has no temperature between ${TEMPERATURE_RANGE.min} and ${TEMPERATURE_RANGE.max}`);
  }
  return T;
}
