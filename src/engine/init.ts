// Weight initialisation. fan_in/fan_out follow PyTorch (`in·kh·kw`, `out·kh·kw`); for a conv
// with a connection table, LeCun's per-unit view is used: each output channel's fan-in counts
// only the input maps it is connected to.

import type { InitName } from './spec';
import type { Rng } from './rng';

export interface InitPlan {
  init: InitName;
  /** Bound of `uniform` / std of `normal`. */
  scale: number;
  fanIn: number;
  fanOut: number;
}

/** Fill `w` from the named distribution. Rows (first axis) may have their own fan-in. */
export function initWeights(w: Float32Array, plan: InitPlan, rng: Rng, rowFanIn?: (row: number) => number, rowSize = w.length): void {
  for (let i = 0; i < w.length; i++) {
    const fanIn = rowFanIn ? rowFanIn(Math.floor(i / rowSize)) : plan.fanIn;
    w[i] = draw(plan, fanIn, rng);
  }
}

function draw(plan: InitPlan, fanIn: number, rng: Rng): number {
  const { fanOut, scale } = plan;
  switch (plan.init) {
    case 'uniform':
      return rng.uniform(-scale, scale);
    case 'normal':
      return rng.normal() * scale;
    case 'lecun-uniform': // Var = 1/fan_in
      return uni(rng, Math.sqrt(3 / fanIn));
    case 'lecun-normal':
      return rng.normal() * Math.sqrt(1 / fanIn);
    case 'xavier-uniform': // Glorot & Bengio 2010: Var = 2/(fan_in+fan_out)
      return uni(rng, Math.sqrt(6 / (fanIn + fanOut)));
    case 'xavier-normal':
      return rng.normal() * Math.sqrt(2 / (fanIn + fanOut));
    case 'kaiming-uniform': // He et al. 2015: Var = 2/fan_in, for ReLU
      return uni(rng, Math.sqrt(6 / fanIn));
    case 'kaiming-normal':
      return rng.normal() * Math.sqrt(2 / fanIn);
  }
}

function uni(rng: Rng, bound: number): number {
  return rng.uniform(-bound, bound);
}
