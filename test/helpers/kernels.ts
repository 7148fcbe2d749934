// The kernels of the current Vitest project (LENET_KERNELS=wasm or js, vitest.config.mts): the
// engine tests run once per backend. Models and layers built in tests take these.
import { afterEach } from 'vitest';
import type { LayerRuntime } from '../../src/engine/layers/layer';
import type { Kernels } from '../../src/engine/kernels/types';
import { Model } from '../../src/engine/model';
import { loadKernels } from '../../src/node/load-kernels';

export function testKernels(): Kernels {
  return loadKernels().kernels;
}

/** For a layer built on its own: the project's kernels and a fresh arena of them. */
export function testRuntime(): LayerRuntime {
  const kernels = testKernels();
  return { kernels, memory: kernels.arena() };
}

/**
 * A builder of models on the project's kernels, each disposed after the test that built it
 * (call it at the top of a file or describe block: it registers an afterEach hook).
 */
export function testModels(): (spec: unknown) => Model {
  const built: Model[] = [];
  afterEach(() => {
    for (const m of built.splice(0)) m.dispose();
  });
  return (spec) => {
    const m = new Model(spec, testKernels());
    built.push(m);
    return m;
  };
}
