// One engine object (an Explainer, an Attacker, …) for the model on screen: a cache, not state,
// rebuilt only when the model on screen or the kernels change, and disposed with its model.

import type { ModelPayload } from '@common/records';
import type { Kernels } from '@engine/kernels/types';
import { Model } from '@engine/model';

/** A Model with the payload's weights; disposed again if they do not fit. */
export function modelFrom(m: ModelPayload, kernels: Kernels): Model {
  const model = new Model(m.spec, kernels);
  try {
    model.restore({ params: m.params, buffers: m.buffers });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

export class ModelHolder<T extends { model: Model }> {
  private held: T | null = null;
  private payload: ModelPayload | null = null;
  private kernelsName = '';

  constructor(private readonly make: (model: Model) => T) {}

  /** The object for `m` (null when no model is on screen); `fresh` when it was just built. */
  get(m: ModelPayload | null, kernels: Kernels): { value: T; fresh: boolean } | null {
    if (!m) {
      this.clear();
      return null;
    }
    if (this.held && this.payload === m && this.kernelsName === kernels.name) return { value: this.held, fresh: false };
    this.clear();
    this.held = this.make(modelFrom(m, kernels));
    this.payload = m;
    this.kernelsName = kernels.name;
    return { value: this.held, fresh: true };
  }

  clear(): void {
    this.held?.model.dispose();
    this.held = null;
    this.payload = null;
  }
}
