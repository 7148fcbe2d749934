// `.lenet` model files: a safetensors container whose tensors carry PyTorch's state_dict names
// and layouts (conv1.weight [6,1,5,5], bn1.running_var …), F32 only, and whose __metadata__
// says what the network is. Metadata values are strings (the safetensors rule); structured ones
// are JSON:
//   format    "lenet-studio-model/1"
//   preset    the preset's name when the model came from one ("" otherwise)
//   spec      the ModelSpec (layers, the C3 connection table, loss)
//   training  the training configuration and how far it got
//   metrics   final (and per-epoch) metrics
//   dataset   fingerprint of the training data (optional)
// A PyTorch state_dict saved with safetensors may carry I64 `*.num_batches_tracked`: accepted
// and ignored. Any other tensor the spec does not name, or a shape that differs, is an error.

import { ModelFileError } from '../errors';
import { jsKernels } from '../kernels/js/backend';
import type { Kernels } from '../kernels/types';
import { KernelMemoryError } from '../kernels/wasm/heap';
import { Model } from '../model';
import type { ModelSpec } from '../spec';
import { decodeSafetensors, encodeSafetensors } from './safetensors';

export const MODEL_FORMAT = 'lenet-studio-model';
export const MODEL_FORMAT_VERSION = 1;
const FORMAT_TAG = `${MODEL_FORMAT}/${MODEL_FORMAT_VERSION}`;

export interface ModelFileMeta {
  preset?: string;
  training?: unknown;
  metrics?: unknown;
  dataset?: string;
  /** Free-form extras (e.g. CSV column and class names); each value stored as JSON. */
  extra?: Record<string, unknown>;
}

export interface LoadedModel {
  model: Model;
  preset?: string;
  training?: unknown;
  metrics?: unknown;
  dataset?: string;
  extra: Record<string, unknown>;
  /** Whether the file was ours (false: weights imported into `fallbackSpec`). */
  native: boolean;
}

export function encodeModelFile(model: Model, meta: ModelFileMeta = {}): Uint8Array {
  const metadata: Record<string, string> = {
    format: FORMAT_TAG,
    preset: meta.preset ?? '',
    spec: JSON.stringify(model.spec),
    training: JSON.stringify(meta.training ?? null),
    metrics: JSON.stringify(meta.metrics ?? null),
  };
  if (meta.dataset) metadata.dataset = meta.dataset;
  for (const [k, v] of Object.entries(meta.extra ?? {})) metadata[`x-${k}`] = JSON.stringify(v);
  return encodeSafetensors(model.namedTensors(), metadata);
}

function parseJsonMeta(value: string | undefined, key: string, fileName: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: metadata "${key}" is not valid JSON`);
  }
}

/**
 * Imports a plain safetensors file (e.g. a PyTorch LeNet-5 state_dict) into the first candidate
 * spec whose tensors it matches exactly, name for name and shape for shape — `preferred` first,
 * since weights alone cannot tell tanh from ReLU. When none fits, the error is the one for the
 * candidate sharing the most tensor names, naming the first tensor that does not fit.
 */
export function importStateDict(
  bytes: Uint8Array,
  fileName: string,
  candidates: readonly { name: string; spec: ModelSpec }[],
  preferred?: string,
): LoadedModel {
  const { tensors } = decodeSafetensors(bytes, fileName);
  const names = new Map(tensors.filter((t) => !(t.dtype === 'I64' && t.name.endsWith('.num_batches_tracked'))).map((t) => [t.name, t.shape]));
  const ordered = [...candidates].sort((a, b) => Number(b.name === preferred) - Number(a.name === preferred));
  let best: { name: string; spec: ModelSpec } | null = null;
  let bestShared = -1;
  for (const c of ordered) {
    const probe = new Model(c.spec, jsKernels); // for its tensor index: ordinary arrays, nothing to dispose
    const index = probe.index;
    const shared = index.filter((e) => names.has(e.name)).length;
    const fits = shared === index.length && names.size === index.length && index.every((e) => names.get(e.name)!.join() === e.shape.join());
    if (fits) return { ...decodeModelFile(bytes, fileName, c.spec), preset: c.name };
    if (shared > bestShared) {
      best = c;
      bestShared = shared;
    }
  }
  if (!best) throw new ModelFileError('MODEL_FOREIGN', `${fileName}: no candidate network to import it into`);
  decodeModelFile(bytes, fileName, best.spec); // throws the specific mismatch
  throw new ModelFileError('MODEL_MISMATCH', `${fileName}: its tensors do not fit ${best.name}`);
}

/**
 * Reads a `.lenet` file, or — when `fallbackSpec` is given — a plain safetensors file whose
 * tensor names fit that spec (e.g. a PyTorch state_dict). The model is built on `kernels`: by
 * default the TypeScript ones, whose ordinary arrays suit a model that only carries the file's
 * tensors (the garbage collector reclaims them). A caller that computes with it passes its own
 * kernels and disposes the model.
 */
export function decodeModelFile(bytes: Uint8Array, fileName: string, fallbackSpec?: ModelSpec, kernels: Kernels = jsKernels): LoadedModel {
  const { tensors, metadata } = decodeSafetensors(bytes, fileName);
  const format = metadata.format;
  let spec: unknown;
  let native = false;
  if (format !== undefined) {
    const m = /^lenet-studio-model\/(\d+)$/.exec(format);
    if (!m) throw new ModelFileError('MODEL_FOREIGN', `${fileName}: format "${format.slice(0, 60)}" is not a LeNet Studio model`);
    if (Number(m[1]) > MODEL_FORMAT_VERSION) {
      throw new ModelFileError(
        'MODEL_FOREIGN',
        `${fileName}: model format version ${m[1]} is newer than this version of LeNet Studio reads (${MODEL_FORMAT_VERSION}); update the app`,
      );
    }
    spec = parseJsonMeta(metadata.spec, 'spec', fileName);
    if (spec === undefined) throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: metadata has no model spec`);
    native = true;
  } else if (fallbackSpec) {
    spec = fallbackSpec;
  } else {
    throw new ModelFileError(
      'MODEL_FOREIGN',
      `${fileName}: a safetensors file without LeNet Studio metadata; import it with a preset (e.g. --preset lenet5-relu-ce-bn)`,
    );
  }
  let model: Model;
  try {
    model = new Model(spec, kernels);
  } catch (e) {
    if (e instanceof KernelMemoryError) throw e;
    throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: ${(e as Error).message}`);
  }
  try {
    const map = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const t of tensors) {
      if (t.dtype === 'I64') {
        if (t.name.endsWith('.num_batches_tracked')) continue;
        throw new ModelFileError('MODEL_MISMATCH', `${fileName}: tensor ${t.name} is I64; LeNet Studio models hold F32 tensors only`);
      }
      map.set(t.name, { shape: t.shape, data: t.data as Float32Array });
    }
    model.loadTensors(map, fileName);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) if (k.startsWith('x-')) extra[k.slice(2)] = parseJsonMeta(v, k, fileName);
  return {
    model,
    preset: metadata.preset || undefined,
    training: parseJsonMeta(metadata.training, 'training', fileName) ?? undefined,
    metrics: parseJsonMeta(metadata.metrics, 'metrics', fileName) ?? undefined,
    dataset: metadata.dataset,
    extra,
    native,
  };
}
