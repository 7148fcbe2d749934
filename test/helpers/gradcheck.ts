// Finite-difference gradient checks (tiny-dnn's `gradient_check`, ConvNetJS's input check).
//
// For a layer the scalar is L = Σ y·r with a fixed random r, so dL/dy = r and one backward call
// gives the analytic dL/dx and dL/dθ. Numerically, each sampled element a[i] is moved to
// fround(a[i] ± h) and dL/da[i] ≈ (L₊ − L₋) / (a₊ − a₋): the divisor is the step actually taken in
// float32, and L is summed in float64, so the only float32 error left is the layer's own rounding.
// Tolerance: |analytic − numeric| ≤ rtol·max(|analytic|, |numeric|) + atol.

import type { Layer } from '../../src/engine/layers/layer';
import { Rng } from '../../src/engine/rng';
import { shapeSize } from '../../src/engine/tensor';

export interface BoundLayer {
  params: Map<string, Float32Array>;
  grads: Map<string, Float32Array>;
  buffers: Map<string, Float32Array>;
}

/** Fresh zeroed arrays for every parameter, gradient and buffer the layer declares, bound to it. */
export function bindFresh(layer: Layer): BoundLayer {
  const params = new Map<string, Float32Array>();
  const grads = new Map<string, Float32Array>();
  const buffers = new Map<string, Float32Array>();
  for (const p of layer.params) {
    params.set(p.name, new Float32Array(shapeSize(p.shape)));
    grads.set(p.name, new Float32Array(shapeSize(p.shape)));
  }
  for (const b of layer.buffers) buffers.set(b.name, new Float32Array(shapeSize(b.shape)));
  layer.bind(params, grads, buffers);
  return { params, grads, buffers };
}

/** Uniform in [lo, hi). */
export function randomArray(rng: Rng, length: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

/**
 * Values in [lo, hi) that are pairwise at least (hi−lo)/(2·length) apart, in random order: a
 * shuffled even grid plus a little jitter. For max pooling, so no window holds a tie and a
 * small step never changes which element wins.
 */
export function distinctArray(rng: Rng, length: number, lo = -1, hi = 1): Float32Array {
  const order = Array.from({ length }, (_, i) => i);
  rng.shuffle(order);
  const gap = (hi - lo) / length;
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = lo + gap * (order[i] + 0.25 + 0.5 * rng.next());
  return a;
}

/** Keeps values at least `margin` away from 0 (for ReLU, whose derivative jumps there). */
export function awayFromZero(a: Float32Array, margin: number): Float32Array {
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]) < margin) a[i] = a[i] < 0 ? a[i] - margin : a[i] + margin;
  return a;
}

export function dot64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export interface Tolerance {
  /** Central-difference step; default 1e-2. */
  step?: number;
  /** Default 1e-2. */
  rtol?: number;
  /** Default 1e-4. */
  atol?: number;
  /** Elements checked per tensor (all when the tensor is smaller); default 100. */
  samples?: number;
}

export interface TensorCheck {
  name: string;
  length: number;
  checked: number;
  failures: number;
  /** The element furthest outside the tolerance (or closest to it when all pass). */
  worst: { index: number; analytic: number; numeric: number } | null;
  /** Largest |numeric| seen: a check where every gradient is ~0 proves little. */
  maxAbsNumeric: number;
}

/**
 * Compares `analytic` with central differences of `loss` over sampled elements of `target`.
 * `target` is perturbed in place and restored bit-exactly afterwards.
 */
export function checkTensorGrad(
  name: string,
  target: Float32Array,
  analytic: ArrayLike<number>,
  loss: () => number,
  rng: Rng,
  tol: Tolerance = {},
  skip?: (i: number) => boolean,
): TensorCheck {
  const h = tol.step ?? 1e-2;
  const rtol = tol.rtol ?? 1e-2;
  const atol = tol.atol ?? 1e-4;
  const samples = tol.samples ?? 100;
  const candidates: number[] = [];
  for (let i = 0; i < target.length; i++) if (!skip?.(i)) candidates.push(i);
  let picked = candidates;
  if (candidates.length > samples) {
    rng.shuffle(candidates);
    picked = candidates.slice(0, samples).sort((a, b) => a - b);
  }
  let failures = 0;
  let worst: TensorCheck['worst'] = null;
  let worstExcess = -Infinity;
  let maxAbsNumeric = 0;
  for (const i of picked) {
    const orig = target[i];
    target[i] = orig + h;
    const up = target[i];
    const lp = loss();
    target[i] = orig - h;
    const down = target[i];
    const lm = loss();
    target[i] = orig;
    const numeric = (lp - lm) / (up - down);
    const a = analytic[i];
    const excess = Math.abs(a - numeric) - (rtol * Math.max(Math.abs(a), Math.abs(numeric)) + atol);
    if (!(excess <= 0)) failures++;
    if (!(excess <= worstExcess)) {
      worstExcess = excess;
      worst = { index: i, analytic: a, numeric };
    }
    maxAbsNumeric = Math.max(maxAbsNumeric, Math.abs(numeric));
  }
  return { name, length: target.length, checked: picked.length, failures, worst, maxAbsNumeric };
}

export function describeChecks(checks: TensorCheck[]): string {
  return checks
    .map((c) => {
      const w = c.worst ? ` worst [${c.worst.index}] analytic ${c.worst.analytic.toExponential(4)} numeric ${c.worst.numeric.toExponential(4)}` : '';
      return `${c.name}: ${c.failures ? 'NOT OK' : 'OK'} ${c.checked - c.failures}/${c.checked} within tolerance (max |numeric| ${c.maxAbsNumeric.toExponential(2)});${w}`;
    })
    .join('\n');
}

export interface GradCheckOptions extends Tolerance {
  /** Passed to forward; BatchNorm's training mode also moves its running statistics on every forward (harmless here). */
  training?: boolean;
  /** Seeds r and the sampled indices. */
  seed?: number;
  /** Parameter elements to leave out, by local name (e.g. weights masked by a connection table). */
  skip?: Record<string, (i: number) => boolean>;
}

export interface GradCheckReport {
  ok: boolean;
  checks: TensorCheck[];
  /** Analytic results, copied. */
  y: Float32Array;
  dx: Float32Array;
  grads: Map<string, Float32Array>;
  /** Largest |(grad after a second, accumulating backward with needDx=false) − pre-filled value − grad|. */
  accumulateError: number;
  message: string;
}

/**
 * Checks dL/dx and dL/dθ of a bound layer at input x (n samples) against central differences.
 * Also checks that backward adds into the gradient arrays (they are pre-filled with noise for a
 * second pass) and that `needDx = false` leaves parameter gradients unchanged.
 */
export function gradCheck(layer: Layer, bound: BoundLayer, x: Float32Array, n: number, opts: GradCheckOptions = {}): GradCheckReport {
  const training = opts.training ?? false;
  const rng = new Rng(opts.seed ?? 1234);
  const y0 = layer.forward(x, n, training).slice();
  const r = randomArray(rng, y0.length);
  for (const g of bound.grads.values()) g.fill(0);
  const dx = layer.backward(r, n, true).slice();
  const grads = new Map([...bound.grads].map(([k, g]) => [k, g.slice()]));

  // Second pass: gradients must accumulate, and needDx=false must not change them.
  let accumulateError = 0;
  if (bound.grads.size > 0) {
    const pre = new Map<string, Float32Array>();
    for (const [k, g] of bound.grads) {
      const scale = Math.max(
        1e-3,
        grads.get(k)!.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
      );
      const p = randomArray(rng, g.length, -scale, scale);
      g.set(p);
      pre.set(k, p);
    }
    layer.forward(x, n, training);
    layer.backward(r, n, false);
    for (const [k, g] of bound.grads) {
      const p = pre.get(k)!;
      const first = grads.get(k)!;
      const skip = opts.skip?.[k];
      for (let i = 0; i < g.length; i++) {
        if (skip?.(i)) continue;
        const err = Math.abs(g[i] - p[i] - first[i]) / (Math.abs(p[i]) + Math.abs(first[i]) + 1e-6);
        if (!(err <= accumulateError)) accumulateError = err;
      }
    }
  }

  const loss = (): number => dot64(layer.forward(x, n, training), r);
  const checks = [checkTensorGrad('input', x, dx, loss, rng, opts)];
  for (const [k, p] of bound.params) checks.push(checkTensorGrad(k, p, grads.get(k)!, loss, rng, opts, opts.skip?.[k]));
  const ok = checks.every((c) => c.failures === 0) && accumulateError <= 1e-4;
  const message = `${layer.kind} ${layer.name}: accumulate relative error ${accumulateError.toExponential(2)}\n${describeChecks(checks)}`;
  return { ok, checks, y: y0, dx, grads, accumulateError, message };
}
