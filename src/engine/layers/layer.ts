// The layer contract. Data are flat NCHW Float32Arrays plus a batch size `n`; a layer owns its
// output and input-gradient buffers and reuses them, so the training loop allocates nothing
// once the largest batch has been seen. `forward`'s output is valid until the next `forward`.
// A layer runs on the kernels of the model that builds it and allocates from that model's arena
// (LayerRuntime), so the model's dispose() returns the layer's memory too.

import { jsKernels } from '../kernels/js/backend';
import type { Arena, Kernels } from '../kernels/types';
import type { Rng } from '../rng';
import type { LayerKind } from '../spec';
import type { Shape } from '../tensor';

export interface ParamSpec {
  /** Local name: `weight`, `bias`, `running_mean`, `running_var` (PyTorch's). */
  name: string;
  shape: Shape;
  /** Whether L2 weight decay applies (weights yes; biases and BN parameters no). */
  decay: boolean;
}

export type Views = ReadonlyMap<string, Float32Array>;

export interface Layer {
  readonly kind: LayerKind;
  /** state_dict prefix: `conv1`, `bn2`, `fc3`. */
  readonly name: string;
  readonly inShape: Shape;
  readonly outShape: Shape;
  /** Trained parameters. */
  readonly params: readonly ParamSpec[];
  /** State that is not trained (batch norm running statistics). */
  readonly buffers: readonly ParamSpec[];
  /** Multiply-adds per image in the forward pass. */
  readonly macs: number;
  /** Receive views into the model's flat parameter, gradient and buffer arrays. */
  bind(params: Views, grads: Views, buffers: Views): void;
  /** Initialise bound parameters and buffers. */
  init(rng: Rng): void;
  /** Re-establish invariants after parameters were loaded (e.g. masked weights are zero). */
  constrain(): void;
  forward(x: Float32Array, n: number, training: boolean): Float32Array;
  /** Adds parameter gradients (+=) and returns dL/dx, or an empty array when `needDx` is false. */
  backward(dy: Float32Array, n: number, needDx: boolean): Float32Array;
}

/** The kernels a layer calls and the memory it allocates from: its model's. */
export interface LayerRuntime {
  readonly kernels: Kernels;
  readonly memory: Arena;
}

/** A layer built on its own (tests): the TypeScript kernels, on ordinary arrays. */
export const JS_RUNTIME: LayerRuntime = { kernels: jsKernels, memory: jsKernels.arena() };

export const EMPTY: Float32Array = new Float32Array(0);

export function view(v: Views, name: string, layer: string): Float32Array {
  const a = v.get(name);
  if (!a) throw new Error(`internal error: ${layer}.${name} was not bound`);
  return a;
}
