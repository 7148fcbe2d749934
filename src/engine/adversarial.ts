// Adversarial digits: FGSM and PGD (L∞) on the model's own training loss, in inference mode
// (batch norm with its running statistics). Images are the engine's inputs, pixels in [0, 1]
// (uint8 / 255, no standardisation), so ε is in pixel units and every perturbed image is clipped
// to [0, 1]. The input gradient is the model's own backward pass (Model.backward with the input
// gradient asked for), the same one training runs; nothing here differentiates by hand.
//
//   FGSM (Goodfellow et al. 2015):  x' = clip(x + ε·sign(∂L(x, y)/∂x))
//   PGD  (Madry et al. 2018):       x₀ = clip(x + U(−ε, ε)) (random start) or x;
//                                   x_{t+1} = clip(Π_ε(x_t + α·sign(∂L(x_t, y)/∂x)))
//   targeted at class c:            the same with L(·, c) and −α (descend towards c).
//
// Here L is the loss of one image (not divided by a batch), sign(0) = 0 (as PyTorch), clip is to
// [0, 1] and Π_ε to the box |x' − x| ≤ ε. The default PGD step is α = 2.5·ε/steps.

import { argmax } from './loss';
import type { ImageSet } from './data';
import type { Model } from './model';
import { Rng } from './rng';
import { LIMITS, describeRange, inRange, type Range } from './train-config';
import { shapeSize } from './tensor';

export const ATTACKS = ['fgsm', 'pgd'] as const;
export type AttackKind = (typeof ATTACKS)[number];

export interface AttackOptions {
  attack: AttackKind;
  /** L∞ radius in pixel units of [0, 1]. */
  eps: number;
  /** PGD: iterations (default 10). */
  steps?: number;
  /** PGD: step α (default 2.5·ε/steps). */
  stepSize?: number;
  /** PGD: start from a uniform point of the ε-box (default true). */
  randomStart?: boolean;
  /** PGD: seed of the random start (default 1). */
  seed?: number;
  /** Targeted: the class to turn the images into; absent or null: untargeted (away from the label). */
  target?: number | null;
}

export const ATTACK_DEFAULTS = { steps: 10, randomStart: true, seed: 1 } as const;

/** Limits on what a caller may ask for (the CLI, the UI and the training setting check against these). */
export const ATTACK_LIMITS = {
  eps: { min: 0, max: 1 },
  steps: LIMITS.adversarialSteps,
  stepSize: { min: 0, max: 1, above: true },
  seed: { min: 0, max: 0xffffffff, int: true },
} as const satisfies Record<string, Range>;

/** PGD's default step for ε and `steps`. */
export function defaultStepSize(eps: number, steps: number): number {
  return (2.5 * eps) / steps;
}

/** Largest batch run at once (bounds the activation memory). */
const CHUNK = 64;

/**
 * Attacks one model. The model is used in place (its parameter gradients are cleared after each
 * backward pass); it must not be training meanwhile, except between the Trainer's batches.
 */
export class Attacker {
  readonly inputSize: number;
  readonly classes: number;

  constructor(readonly model: Model) {
    this.inputSize = shapeSize(model.inShape);
    this.classes = model.classes;
  }

  /**
   * ∂L/∂x of each image's own loss against `labels` (n × inputSize), and the predicted classes at
   * xs, in inference mode. The batch-mean gradient the model's backward gives, times the batch size.
   */
  lossGradients(xs: Float32Array, labels: Uint8Array, n: number): { grads: Float32Array; predictions: Uint8Array } {
    const D = this.inputSize;
    const K = this.classes;
    const grads = new Float32Array(n * D);
    const predictions = new Uint8Array(n);
    for (let s = 0; s < n; s += CHUNK) {
      const m = Math.min(CHUNK, n - s);
      const y = this.model.forward(xs.subarray(s * D, (s + m) * D), m, false);
      for (let i = 0; i < m; i++) predictions[s + i] = argmax(y, i * K, K);
      const g = this.model.backward(labels.subarray(s, s + m), true);
      for (let j = 0; j < m * D; j++) grads[s * D + j] = g[j] * m;
    }
    this.model.zeroGrad();
    return { grads, predictions };
  }

  /** Predicted classes of n inputs, inference mode. */
  predict(xs: Float32Array, n: number): Uint8Array {
    const D = this.inputSize;
    const K = this.classes;
    const out = new Uint8Array(n);
    for (let s = 0; s < n; s += CHUNK) {
      const m = Math.min(CHUNK, n - s);
      const y = this.model.forward(xs.subarray(s * D, (s + m) * D), m, false);
      for (let i = 0; i < m; i++) out[s + i] = argmax(y, i * K, K);
    }
    return out;
  }

  /**
   * Perturbed copies of n images `xs` (values in [0, 1]) with true labels `labels`; targeted
   * attacks use `opts.target` for every image instead.
   */
  attack(xs: Float32Array, labels: Uint8Array, n: number, opts: AttackOptions): Float32Array {
    checkAttack(opts, this.classes);
    const D = this.inputSize;
    const targeted = opts.target !== undefined && opts.target !== null;
    const aim = targeted ? new Uint8Array(n).fill(opts.target as number) : labels.subarray(0, n);
    const dir = targeted ? -1 : 1;
    const eps = opts.eps;
    const x0 = xs.subarray(0, n * D);
    if (opts.attack === 'fgsm') {
      const { grads } = this.lossGradients(x0, aim, n);
      const out = new Float32Array(n * D);
      for (let j = 0; j < n * D; j++) out[j] = clip01(x0[j] + dir * eps * Math.sign(grads[j]));
      return out;
    }
    const steps = opts.steps ?? ATTACK_DEFAULTS.steps;
    const alpha = opts.stepSize ?? defaultStepSize(eps, steps);
    const x = new Float32Array(x0);
    if (opts.randomStart ?? ATTACK_DEFAULTS.randomStart) {
      const rng = new Rng(opts.seed ?? ATTACK_DEFAULTS.seed);
      for (let j = 0; j < n * D; j++) x[j] = clip01(x0[j] + rng.uniform(-eps, eps));
    }
    for (let t = 0; t < steps; t++) {
      const { grads } = this.lossGradients(x, aim, n);
      for (let j = 0; j < n * D; j++) {
        const v = x[j] + dir * alpha * Math.sign(grads[j]);
        x[j] = clip01(Math.min(x0[j] + eps, Math.max(x0[j] - eps, v)));
      }
    }
    return x;
  }

  /**
   * The smallest ε (to within `tol`) at which the targeted attack turns image x into class
   * `target`: a scan up the grid maxEps·k/`grid` (k = 1…grid) to the first ε that succeeds, then
   * bisection between it and the grid point below, keeping an ε that succeeds and one that
   * fails. Success need not grow with ε (a large FGSM step overshoots), hence the scan first; the
   * result is the smallest ε only up to what the grid can see. null when no grid point succeeds;
   * ε 0 when the model already says `target`.
   */
  smallestEps(
    x: Float32Array,
    target: number,
    opts: Omit<AttackOptions, 'eps' | 'target'>,
    maxEps = 1,
    tol = 1 / 512,
    grid = 32,
  ): { eps: number; image: Float32Array; prediction: number } | null {
    const label = new Uint8Array(1);
    if (this.predict(x, 1)[0] === target) return { eps: 0, image: x.slice(0, this.inputSize), prediction: target };
    const at = (eps: number): { image: Float32Array; prediction: number } => {
      const image = this.attack(x, label, 1, { ...opts, eps, target });
      return { image, prediction: this.predict(image, 1)[0] };
    };
    let lo = 0;
    let hiEps = -1;
    let hi: { image: Float32Array; prediction: number } | null = null;
    for (let k = 1; k <= grid; k++) {
      const eps = (maxEps * k) / grid;
      const r = at(eps);
      if (r.prediction === target) {
        hi = r;
        hiEps = eps;
        break;
      }
      lo = eps;
    }
    if (!hi) return null;
    while (hiEps - lo > tol) {
      const mid = (lo + hiEps) / 2;
      const r = at(mid);
      if (r.prediction === target) {
        hi = r;
        hiEps = mid;
      } else {
        lo = mid;
      }
    }
    return { eps: hiEps, ...hi };
  }
}

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Throws a plain Error naming the first bad option. */
export function checkAttack(opts: AttackOptions, classes: number): void {
  if (!(ATTACKS as readonly string[]).includes(opts.attack)) throw new Error(`attack must be fgsm or pgd, got ${JSON.stringify(opts.attack)}`);
  const bad = (name: string, v: unknown, r: Range): void => {
    if (v !== undefined && !inRange(v, r)) throw new Error(`${name} must be ${describeRange(r)}, got ${String(v)}`);
  };
  bad('eps', opts.eps, ATTACK_LIMITS.eps);
  if (opts.eps === undefined) throw new Error('eps is required');
  bad('steps', opts.steps, ATTACK_LIMITS.steps);
  bad('step size', opts.stepSize, ATTACK_LIMITS.stepSize);
  bad('seed', opts.seed, ATTACK_LIMITS.seed);
  const t = opts.target;
  if (t !== undefined && t !== null && !(Number.isInteger(t) && t >= 0 && t < classes)) throw new Error(`target must be a class 0–${classes - 1}, got ${t}`);
}

export interface RobustPoint {
  eps: number;
  accuracy: number;
}

/**
 * Accuracy against ε: for each ε, the share of the first `limit` images of `data` (all by default)
 * the model still classifies correctly after the untargeted attack. ε 0 is the clean accuracy.
 * `onProgress(done, total)` after each batch.
 */
export function robustAccuracy(
  model: Model,
  data: ImageSet,
  epsList: readonly number[],
  opts: Omit<AttackOptions, 'eps' | 'target'>,
  limit?: number,
  onProgress?: (done: number, total: number) => void,
): RobustPoint[] {
  const a = new Attacker(model);
  const D = a.inputSize;
  const count = Math.min(limit ?? data.count, data.count);
  const correct = new Array<number>(epsList.length).fill(0);
  const x = new Float32Array(CHUNK * D);
  const idx = new Uint32Array(CHUNK);
  const total = count * epsList.length;
  let done = 0;
  for (let s = 0; s < count; s += CHUNK) {
    const m = Math.min(CHUNK, count - s);
    for (let i = 0; i < m; i++) idx[i] = s + i;
    model.kernels.gatherPixels(x, data.pixels, idx, m, D); // the same [0, 1] pixels evaluation sees
    const labels = data.labels.subarray(s, s + m);
    epsList.forEach((eps, e) => {
      // PGD's random start differs per batch, from a seed derived from the batch's first image.
      const seed = ((opts.seed ?? ATTACK_DEFAULTS.seed) + s) >>> 0;
      const adv = eps === 0 ? x.subarray(0, m * D) : a.attack(x, labels, m, { ...opts, eps, seed });
      const p = a.predict(adv, m);
      for (let i = 0; i < m; i++) if (p[i] === labels[i]) correct[e]++;
      done += m;
      onProgress?.(done, total);
    });
  }
  return epsList.map((eps, e) => ({ eps, accuracy: count ? correct[e] / count : 0 }));
}

// ---------------------------------------------------------------- adversarial training

/**
 * Adversarial training (Goodfellow et al. 2015; Madry et al. 2018): every training batch is
 * replaced by its adversarial examples against the current weights, made in inference mode (batch
 * norm with its running statistics, so making them does not move those statistics and the batch's
 * own statistics cannot leak into the attack), then trained on in training mode as usual. PGD
 * starts at random in the ε-box, from a seed the Trainer derives from the run's seed and the batch's
 * place in the run, so a resumed run makes the same examples. Settings: `fgsm:EPS` or `pgd:EPS:STEPS`.
 */
export interface AdversarialConfig {
  attack: AttackKind;
  /** L∞ radius in pixel units of [0, 1]. */
  eps: number;
  /** PGD only: iterations of step 2.5·ε/steps. */
  steps?: number;
}

/** What one batch's (or one shard's) adversarial examples are made with. */
export interface AdversarialStep {
  attack: AttackKind;
  eps: number;
  steps: number;
  seed: number;
}

/** `fgsm:0.1` or `pgd:0.1:7` as a config; throws an Error in the words of LIMITS. */
export function parseAdversarial(text: string): AdversarialConfig {
  const parts = text.trim().split(':');
  const kind = parts[0];
  if ((kind !== 'fgsm' && kind !== 'pgd') || parts.length !== (kind === 'fgsm' ? 2 : 3)) {
    throw new Error(`expected fgsm:EPS or pgd:EPS:STEPS, got "${text}"`);
  }
  const num = (s: string): number => (s.trim() === '' ? Number.NaN : Number(s));
  const eps = num(parts[1]);
  if (!inRange(eps, LIMITS.adversarialEps)) throw new Error(`ε must be ${describeRange(LIMITS.adversarialEps)}, got "${parts[1]}"`);
  if (kind === 'fgsm') return { attack: 'fgsm', eps };
  const steps = num(parts[2]);
  if (!inRange(steps, LIMITS.adversarialSteps)) throw new Error(`PGD steps must be ${describeRange(LIMITS.adversarialSteps)}, got "${parts[2]}"`);
  return { attack: 'pgd', eps, steps };
}

export function formatAdversarial(a: AdversarialConfig | null | undefined): string {
  if (!a) return 'none';
  return a.attack === 'fgsm' ? `fgsm:${a.eps}` : `pgd:${a.eps}:${a.steps}`;
}

/** The PGD random-start seed of the batch at `position` of epoch `epoch` (0-based) of a run seeded `seed`. */
export function adversarialSeed(seed: number, epoch: number, position: number): number {
  let h = (seed ^ 0xad7e5a11) >>> 0;
  h = Math.imul(h ^ epoch, 0x9e3779b1) >>> 0;
  h = Math.imul(h ^ position, 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The adversarial examples of a batch (n images xs, labels) for training: see AdversarialConfig. */
export function adversarialBatch(attacker: Attacker, xs: Float32Array, labels: Uint8Array, n: number, step: AdversarialStep): Float32Array {
  return attacker.attack(xs, labels, n, {
    attack: step.attack,
    eps: step.eps,
    steps: step.steps,
    randomStart: true,
    seed: step.seed,
  });
}
