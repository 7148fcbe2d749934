// The training loop, step by step, so a host (CLI, trainer process) can interleave progress
// reports, pause and cancel between batches. Everything it needs to continue exactly where
// it stopped — epoch, position, shuffle order, RNG, momentum — is in `state()`.

import { Attacker, adversarialBatch, adversarialSeed, type AdversarialStep } from './adversarial';
import { TRANSFORM_SIZE, drawTransforms, warpBatch } from './augment';
import type { ImageSet } from './data';
import { DivergedError, SpecError } from './errors';
import type { Model } from './model';
import { Sgd } from './optim';
import { chanceLoss } from './loss';
import { Rng, type RngState } from './rng';
import { learningRate } from './schedule';
import { validateTrainConfig, type TrainConfig } from './train-config';
import { BatchBuffer, shapeSize } from './tensor';

export interface BatchResult {
  n: number;
  /** Mean loss of the batch. */
  loss: number;
  correct: number;
}

export interface TrainerState {
  epoch: number;
  position: number;
  order: Uint32Array;
  rng: { s: RngState; spare: number | null };
  velocity: Float32Array;
}

/**
 * Computes the gradient of one batch: forward and backward in training mode over the images
 * `idx`, leaving in `model.grads` (zeroed first) the gradient of the batch-mean loss and updating
 * batch norm running statistics. Local by default; the Node side plugs in a data-parallel one.
 * With augmentation, `transforms` holds image s's distortion at [s·TRANSFORM_SIZE, …) (drawn by
 * the Trainer, so every shard of a parallel batch warps its images the same way). With
 * `adversarial`, the (warped) images are first replaced by their adversarial examples against the
 * current weights, made in inference mode (see AdversarialConfig); a data-parallel shard offsets
 * the seed by its first image's place in the batch.
 */
export interface BatchGradients {
  compute(
    idx: Uint32Array,
    labels: Uint8Array,
    n: number,
    transforms?: Float64Array | null,
    adversarial?: AdversarialStep | null,
  ): { lossSum: number; correct: number };
}

export function localGradients(model: Model, data: ImageSet): BatchGradients {
  let warped: BatchBuffer | null = null;
  let attacker: Attacker | null = null;
  return {
    compute(idx, labels, n, transforms, adversarial) {
      if (transforms || adversarial) {
        warped ??= new BatchBuffer(shapeSize(model.inShape), model.memory);
        const x = warped.get(n);
        if (transforms) warpBatch(data.pixels, idx, n, model.inShape, transforms, x);
        else model.kernels.gatherPixels(x, data.pixels, idx, n, shapeSize(model.inShape));
        attacker ??= new Attacker(model);
        model.forward(adversarial ? adversarialBatch(attacker, x, labels, n, adversarial) : x, n, true);
      } else {
        model.forwardPixels(data.pixels, idx, n, true);
      }
      const lossSum = model.lossSum(labels);
      const correct = model.correct(labels);
      model.zeroGrad();
      // Backward even when the loss is not finite (the Trainer then refuses the step): the shards of
      // a data-parallel batch with synchronised batch norm must all take part in every exchange.
      model.backward(labels);
      return { lossSum, correct };
    },
  };
}

/** Smoothed loss above this multiple of the chance loss counts as divergence. */
export const DIVERGENCE_FACTOR = 5;

export class Trainer {
  readonly opt: Sgd;
  private readonly rng: Rng;
  private order: Uint32Array;
  private epochIndex = 0;
  private position = 0;
  private readonly labels: Uint8Array;
  /** Exponential moving average of the batch loss, for spotting a run that blew up. */
  private smoothedLoss = NaN;
  private batchesSeen = 0;
  private readonly gradients: BatchGradients;
  /** Per-image distortions of the current batch, when augmenting. */
  private readonly transforms: Float64Array | null;

  constructor(
    readonly model: Model,
    readonly data: ImageSet,
    readonly config: TrainConfig,
    gradients?: BatchGradients,
  ) {
    validateTrainConfig(config);
    this.gradients = gradients ?? localGradients(model, data);
    this.opt = new Sgd(model, { momentum: config.momentum, decay: config.decay });
    // The shuffle stream is separate from initialisation so loading weights doesn't change it.
    this.rng = new Rng((config.seed ^ 0x5eed5eed) >>> 0);
    this.order = new Uint32Array(data.count);
    for (let i = 0; i < data.count; i++) this.order[i] = i;
    this.labels = new Uint8Array(config.batchSize);
    this.transforms = config.augment ? new Float64Array(config.batchSize * TRANSFORM_SIZE) : null;
    this.beginEpoch();
  }

  /** Epoch in progress, from 0. */
  get epoch(): number {
    return this.epochIndex;
  }

  get done(): boolean {
    return this.epochIndex >= this.config.epochs;
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.data.count / this.config.batchSize);
  }

  /** Images of the current epoch already trained on. */
  get epochPosition(): number {
    return this.position;
  }

  get lr(): number {
    return learningRate(this.config.lr, this.config.schedule, this.epochIndex, this.config.epochs);
  }

  private beginEpoch(): void {
    this.position = 0;
    if (this.config.shuffle) this.rng.shuffle(this.order);
  }

  /**
   * Trains on the next batch. Returns null when the epoch has ended (and moves to the next).
   * Throws DivergedError, before the weights are touched, when the loss or a gradient is not finite.
   */
  step(): BatchResult | null {
    if (this.done) return null;
    const { data, model } = this;
    if (this.position >= data.count) {
      this.epochIndex++;
      if (!this.done) this.beginEpoch();
      return null;
    }
    const n = Math.min(this.config.batchSize, data.count - this.position);
    const idx = this.order.subarray(this.position, this.position + n);
    const labels = this.labels.subarray(0, n);
    for (let s = 0; s < n; s++) labels[s] = data.labels[idx[s]];
    let transforms: Float64Array | null = null;
    if (this.transforms && this.config.augment) {
      // From the shuffle stream, after this epoch's shuffle: state() covers it, so a resumed run
      // draws the same distortions.
      transforms = this.transforms.subarray(0, n * TRANSFORM_SIZE);
      drawTransforms(this.rng, this.config.augment, n, transforms);
    }
    const adv = this.config.adversarial;
    // Seeded by the batch's place in the run, not drawn from the shuffle stream: state() covers it.
    const adversarial: AdversarialStep | null = adv
      ? { attack: adv.attack, eps: adv.eps, steps: adv.steps ?? 1, seed: adversarialSeed(this.config.seed, this.epochIndex, this.position) }
      : null;
    const { lossSum, correct } = this.gradients.compute(idx, labels, n, transforms, adversarial);
    const loss = lossSum / n;
    if (!Number.isFinite(loss)) throw this.diverged(`loss is ${loss}`);
    // A finite loss can still mean a blown-up run (saturated softmax or tanh, or batch norm
    // hiding exploding weights): a smoothed loss far above what an untrained net scores.
    this.smoothedLoss = Number.isNaN(this.smoothedLoss) ? loss : 0.9 * this.smoothedLoss + 0.1 * loss;
    this.batchesSeen++;
    const limit = DIVERGENCE_FACTOR * chanceLoss(model.spec.loss, model.classes);
    if (this.batchesSeen >= 5 && this.smoothedLoss > limit) {
      throw this.diverged(`the smoothed loss ${this.smoothedLoss.toFixed(2)} is over ${DIVERGENCE_FACTOR}× that of an untrained network (${limit.toFixed(2)})`);
    }
    if (!model.kernels.allFinite(model.grads, model.grads.length)) throw this.diverged('a gradient is not finite');
    this.opt.step(this.lr);
    if (!model.isFinite()) throw this.diverged('the weights are no longer finite');
    this.position += n;
    return { n, loss, correct };
  }

  private diverged(why: string): DivergedError {
    const batch = Math.floor(this.position / this.config.batchSize) + 1;
    return new DivergedError('DIVERGED', `training diverged at epoch ${this.epochIndex + 1}, batch ${batch}: ${why} (try a smaller learning rate)`);
  }

  state(): TrainerState {
    return { epoch: this.epochIndex, position: this.position, order: this.order.slice(), rng: this.rng.getState(), velocity: this.opt.velocity.slice() };
  }

  restore(s: TrainerState): void {
    if (s.order.length !== this.order.length || s.velocity.length !== this.opt.velocity.length) {
      throw new SpecError('CONFIG_INVALID', 'checkpoint does not match this model and dataset');
    }
    this.epochIndex = s.epoch;
    this.position = s.position;
    this.order.set(s.order);
    this.rng.setState(s.rng);
    this.opt.velocity.set(s.velocity);
  }
}
