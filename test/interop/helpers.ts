// Shared by the interop tests: briefly trained presets, engine inference, onnxruntime runs,
// PyTorch-style safetensors built byte by byte, and running the CLIs as a user would.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { limitSet, type ImageSet } from '../../src/engine/data';
import { argmax } from '../../src/engine/loss';
import { Model } from '../../src/engine/model';
import { PRESETS } from '../../src/engine/presets';
import { Trainer } from '../../src/engine/train';
import { testKernels } from '../helpers/kernels';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A preset trained for one epoch on the first `limit` training images (seed 1, batch 32). */
export function trainBriefly(presetName: string, train: ImageSet, limit = 300): Model {
  const preset = PRESETS[presetName];
  const model = new Model(preset.spec, testKernels()).init(1);
  const d = preset.defaults;
  const trainer = new Trainer(model, limitSet(train, limit), {
    epochs: 1,
    batchSize: 32,
    lr: d.lr,
    momentum: d.momentum,
    decay: d.decay,
    schedule: { type: 'constant' },
    seed: 1,
    shuffle: true,
  });
  while (trainer.step() !== null);
  return model;
}

/** Pixels of images [0, n) scaled to [0,1], NCHW: exactly what the engine feeds its first layer. */
export function scaledPixels(set: ImageSet, n: number): Float32Array {
  const size = set.pixels.length / set.count;
  const x = new Float32Array(n * size);
  for (let i = 0; i < x.length; i++) x[i] = set.pixels[i] / 255;
  return x;
}

/** The engine's inference-mode outputs for n images of x, in batches as `evaluate` runs them. */
export function engineOutputs(model: Model, x: Float32Array, n: number, batch = 100): Float32Array {
  const size = x.length / n;
  const out = new Float32Array(n * model.classes);
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    out.set(model.forward(x.subarray(s * size, (s + m) * size), m, false), s * model.classes);
  }
  return out;
}

export function predictions(out: Float32Array, n: number, classes: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let s = 0; s < n; s++) p[s] = argmax(out, s * classes, classes);
  return p;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates
  }
  return m;
}

/** Runs an ONNX model on n images with onnxruntime (CPU, one thread) and returns "output". */
export async function runOnnx(bytes: Uint8Array, x: Float32Array, dims: readonly number[]): Promise<{ output: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const result = await session.run({ input: new ort.Tensor('float32', x, dims) });
    const out = result.output;
    if (!(out.data instanceof Float32Array)) throw new Error(`ONNX output is ${out.type}, expected float32`);
    return { output: out.data, dims: out.dims };
  } finally {
    await session.release();
  }
}

export interface TorchTensor {
  name: string;
  dtype: 'F32' | 'I64';
  shape: number[];
  values: ArrayLike<number>;
}

/**
 * A safetensors file laid out as `safetensors.torch.save_file(model.state_dict())` writes one:
 * header keys sorted, no __metadata__, data ordered by dtype alignment (I64 first) then by name,
 * header padded with spaces to 8 bytes.
 */
export function torchStyleSafetensors(tensors: readonly TorchTensor[]): Uint8Array {
  const size = (t: TorchTensor): number => t.values.length * (t.dtype === 'I64' ? 8 : 4);
  const byData = [...tensors].sort((a, b) => (a.dtype === b.dtype ? (a.name < b.name ? -1 : 1) : a.dtype === 'I64' ? -1 : 1));
  const offsets = new Map<string, [number, number]>();
  let offset = 0;
  for (const t of byData) {
    offsets.set(t.name, [offset, offset + size(t)]);
    offset += size(t);
  }
  const header: Record<string, unknown> = {};
  for (const t of [...tensors].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: offsets.get(t.name) };
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  for (const t of byData) {
    let at = 8 + headerBytes.length + offsets.get(t.name)![0];
    for (let i = 0; i < t.values.length; i++) {
      if (t.dtype === 'I64') {
        view.setBigInt64(at, BigInt(t.values[i]), true);
        at += 8;
      } else {
        view.setFloat32(at, t.values[i], true);
        at += 4;
      }
    }
  }
  return out;
}

/** The model's tensors as a PyTorch state_dict has them: plus I64 num_batches_tracked per batch norm. */
export function torchStateDict(model: Model, numBatchesTracked = 10): TorchTensor[] {
  const out: TorchTensor[] = [];
  for (const t of model.namedTensors()) {
    out.push({ name: t.name, dtype: 'F32', shape: [...t.shape], values: t.data });
    if (t.name.endsWith('.running_var')) {
      out.push({ name: t.name.replace(/running_var$/, 'num_batches_tracked'), dtype: 'I64', shape: [], values: [numBatchesTracked] });
    }
  }
  return out;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `src/node/cli/NAME.ts` with tsx, as `npm run NAME -- ARGS` does. */
export function runCliScript(name: string, args: readonly string[]): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `src/node/cli/${name}.ts`, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
