// What-units-want benchmark: the time to compute every unit's maximising image for LeNet-5 (each
// conv and dense layer as one batch, the default 128 steps) and to rank the 10,000 MNIST test
// images for every unit (one batched inference pass), with the engine's kernels in Node — the
// same engine code the app's worker runs with the same wasm kernels in Chromium.
//   npx tsx scripts/bench-unit-viz.ts [MODEL.lenet] [--kernels wasm|js]
// Without a model file, an untrained lenet5-relu-ce (the time does not depend on the weights).
// A benchmark, not a test: it asserts nothing.

import { Explainer } from '../src/engine/explain';
import { Model } from '../src/engine/model';
import { PRESETS } from '../src/engine/presets';
import { maximise, topImages, unitLayers } from '../src/engine/unit-viz';
import { readModel } from '../src/node/cli/common';
import { loadMnist } from '../src/node/datasets';
import { loadKernels } from '../src/node/load-kernels';

const args = process.argv.slice(2);
const ki = args.indexOf('--kernels');
if (ki >= 0) {
  process.env.LENET_KERNELS = args[ki + 1];
  args.splice(ki, 2);
}
const { kernels } = loadKernels();
const model = args[0] ? (await readModel(args[0], undefined, kernels)).model : new Model(PRESETS['lenet5-relu-ce'].spec, kernels).init(1);
const ex = new Explainer(model);
const data = await loadMnist();

console.log(`kernels: ${kernels.name} · model: ${args[0] ?? 'lenet5-relu-ce, untrained'}\n`);
console.log('| what | units | ms | ms per unit |');
console.log('|---|---:|---:|---:|');
let t = performance.now();
topImages(ex, data.test.pixels, data.test.count, 6);
console.log(
  `| top 6 of ${data.test.count.toLocaleString('en-US')} test images, every unit | ${unitLayers(ex).reduce((a, l) => a + l.units, 0)} | ${(performance.now() - t).toFixed(0)} | – |`,
);
let total = 0;
let units = 0;
for (const l of unitLayers(ex)) {
  t = performance.now();
  maximise(ex, l.name);
  const ms = performance.now() - t;
  total += ms;
  units += l.units;
  console.log(`| maximise ${l.name} (128 steps) | ${l.units} | ${ms.toFixed(0)} | ${(ms / l.units).toFixed(1)} |`);
}
console.log(`| **maximise every unit** | ${units} | ${total.toFixed(0)} | ${(total / units).toFixed(1)} |`);
model.dispose();
