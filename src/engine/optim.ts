// Minibatch SGD with momentum and L2 weight decay, PyTorch's torch.optim.SGD step:
//   g ← grad + λ·p   (λ only on weights, not on biases or BN parameters)
//   v ← μ·v + g      (when μ > 0)
//   p ← p − lr·v
// It walks the model's flat arrays through the tensor index, never the layers, with the model's
// kernels; the velocity comes from the model's memory, so the model's dispose() returns it.

import type { Model } from './model';

export interface SgdOptions {
  momentum: number;
  decay: number;
}

export class Sgd {
  readonly velocity: Float32Array;
  /** [offset, length] of each parameter that takes weight decay. */
  private readonly decayRanges: [number, number][];

  constructor(
    private readonly model: Model,
    private readonly opts: SgdOptions,
  ) {
    this.velocity = model.memory.alloc(model.params.length);
    this.decayRanges = model.index.filter((e) => e.store === 'param' && e.decay).map((e) => [e.offset, e.length]);
  }

  step(lr: number): void {
    const p = this.model.params;
    const g = this.model.grads;
    const { momentum, decay } = this.opts;
    const k = this.model.kernels;
    if (decay !== 0) for (const [off, len] of this.decayRanges) k.addDecay(g, p, off, len, decay);
    k.sgdStep(p, g, this.velocity, lr, momentum);
  }
}
