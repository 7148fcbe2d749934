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
// Metadata strings are cleaned as they are read and written (cleanMetaString): no control or
// invisible characters, and the preset name and dataset tag are capped, so what a file says is
// safe to print in a terminal and to copy into an export.

import { temperatureOf } from '../calibration';
import { ModelFileError, quoteValue } from '../errors';
import { jsKernels } from '../kernels/js/backend';
import type { Kernels } from '../kernels/types';
import { KernelMemoryError } from '../kernels/wasm/heap';
import { Model } from '../model';
import { SPEC_CAPS, specTensors, validateSpec, type ModelSpec } from '../spec';
import { formatShape } from '../tensor';
import { encodeSafetensors, readF32Into, readSafetensorsLayout, SAFETENSORS_MAX_HEADER_BYTES, type SafeEntry, type SafetensorsLayout } from './safetensors';

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
    preset: cleanMetaString(meta.preset ?? '', MAX_PRESET_NAME),
    spec: JSON.stringify(model.spec),
    training: JSON.stringify(meta.training ?? null),
    metrics: JSON.stringify(meta.metrics ?? null),
  };
  if (meta.dataset) metadata.dataset = cleanMetaString(meta.dataset, MAX_DATASET_TAG);
  for (const [k, v] of Object.entries(meta.extra ?? {})) metadata[`x-${k}`] = JSON.stringify(v);
  return encodeSafetensors(model.namedTensors(), metadata);
}

function parseJsonMeta(value: string | undefined, key: string, fileName: string): unknown {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: metadata ${quoteValue(key)} is not valid JSON`);
  }
  try {
    return cleanJson(parsed);
  } catch (e) {
    if (e instanceof RangeError) throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: metadata ${quoteValue(key)} is nested too deeply`);
    throw e;
  }
}

/**
 * The largest file that can hold a model within SPEC_CAPS: the largest header, every parameter as
 * F32, and 1 MiB for a PyTorch state_dict's I64 counters (84,934,664 bytes). Readers refuse a
 * larger file before reading it; decodeModelFile refuses larger bytes before parsing them.
 */
export const MAX_MODEL_FILE_BYTES = 8 + SAFETENSORS_MAX_HEADER_BYTES + 4 * SPEC_CAPS.parameters + 1024 * 1024;

// ------------------------------------------------------------------ metadata a person sees

/** Longest preset name a file may show (the presets' own are under 30 characters). */
export const MAX_PRESET_NAME = 64;
/** Longest dataset fingerprint a file may show (ours are 64 hex digits). */
export const MAX_DATASET_TAG = 128;

// C0 and C1 controls (ESC starts terminal sequences, BEL ends them), DEL, and the invisible
// format characters that reorder or hide text (bidi overrides and isolates, zero-width marks).
// eslint-disable-next-line no-control-regex
const UNSHOWABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]/g;

/**
 * A metadata string fit to print or export: control and invisible format characters dropped,
 * whitespace runs made one space, at most `max` characters (then "…"). Without `max` only the
 * characters are dropped (structured values, e.g. a checkpoint's base64 state, keep their length).
 */
export function cleanMetaString(s: string, max?: number): string {
  if (max === undefined) return s.replace(UNSHOWABLE, '');
  const t = s.replace(/\s+/g, ' ').replace(UNSHOWABLE, '').trim();
  const chars = Array.from(t.slice(0, 4 * max)); // whole code points, never half a surrogate pair
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : t;
}

function cleanJson(v: unknown): unknown {
  if (typeof v === 'string') return cleanMetaString(v);
  if (Array.isArray(v)) return v.map(cleanJson);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [cleanMetaString(k), cleanJson(x)]));
  }
  return v;
}

// ------------------------------------------------------------------ files that are no model at all

/** What a file that is not a safetensors container seems to be, from its first bytes. */
export function sniffFileKind(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'it is empty';
  const starts = (...sig: number[]): boolean => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'it looks like a PNG image';
  if (starts(0xff, 0xd8, 0xff)) return 'it looks like a JPEG image';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'it looks like a GIF image';
  if (starts(0x50, 0x4b, 0x03, 0x04) || starts(0x50, 0x4b, 0x05, 0x06)) return 'it looks like a zip archive';
  if (starts(0x1f, 0x8b)) return 'it looks like a gzip file';
  if (starts(0x25, 0x50, 0x44, 0x46)) return 'it looks like a PDF document';
  if (starts(0x7f, 0x45, 0x4c, 0x46) || starts(0x4d, 0x5a)) return 'it looks like a program';
  if (starts(0x00, 0x00, 0x08, 0x01) || starts(0x00, 0x00, 0x08, 0x03)) return 'it looks like an MNIST IDX data file';
  if (starts(0x08) && bytes.length > 2 && bytes[1] < 0x20) return 'it may be an ONNX model; LeNet Studio exports ONNX but reads only .lenet files';
  const head = bytes.subarray(0, 4096);
  let text: string | null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head.length < bytes.length ? head.subarray(0, head.length - 4) : head);
  } catch {
    text = null;
  }
  // eslint-disable-next-line no-control-regex
  if (text !== null && !/[\u0000-\u0008\u000e-\u001f]/.test(text)) {
    const t = text.trimStart();
    if (t.startsWith('{') || t.startsWith('[')) return 'it looks like JSON text';
    const commas = t.split('\n', 2).map((line) => line.split(',').length - 1);
    if (commas.length === 2 && commas[0] > 0 && commas[0] === commas[1]) return 'it looks like CSV text';
    return 'it looks like text';
  }
  return 'its contents are not a model';
}

/** True when the bytes start like a safetensors container: a header length that fits, then "{". */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(Math.min(bytes.length - 8, SAFETENSORS_MAX_HEADER_BYTES)) && bytes[8] === 0x7b;
}

/**
 * The container's layout; a file that does not even start like one gets a plain sentence
 * ("notes.txt is not a LeNet Studio model (it looks like text)") with the parser's words as detail.
 */
function readLayout(bytes: Uint8Array, fileName: string): SafetensorsLayout {
  if (bytes.length > MAX_MODEL_FILE_BYTES) {
    throw new ModelFileError(
      'MODEL_BAD_HEADER',
      `${fileName}: ${bytes.length} bytes is larger than any model LeNet Studio reads (${MAX_MODEL_FILE_BYTES} bytes)`,
    );
  }
  try {
    return readSafetensorsLayout(bytes, fileName);
  } catch (e) {
    if (!(e instanceof ModelFileError) || looksLikeSafetensors(bytes)) throw e;
    throw new ModelFileError('MODEL_FOREIGN', `${fileName} is not a LeNet Studio model (${sniffFileKind(bytes)})`, e.message);
  }
}

// ------------------------------------------------------------------ matching tensors to a spec

/**
 * Checks the file's tensors against the ones `spec` needs, before anything is built: an I64
 * tensor other than num_batches_tracked, then (in network order) the first missing tensor or
 * wrong shape, then a tensor the spec has no place for.
 */
function matchTensors(spec: ModelSpec, entries: readonly SafeEntry[], fileName: string): Map<string, SafeEntry> {
  const byName = new Map<string, SafeEntry>();
  for (const t of entries) {
    if (t.dtype === 'I64') {
      if (t.name.endsWith('.num_batches_tracked')) continue;
      throw new ModelFileError('MODEL_MISMATCH', `${fileName}: tensor ${t.name} is I64; LeNet Studio models hold F32 tensors only`);
    }
    byName.set(t.name, t);
  }
  const expected = specTensors(spec);
  const names = new Set(expected.map((e) => e.name));
  for (const e of expected) {
    const t = byName.get(e.name);
    if (!t) {
      // Names the file has and the model lacks usually explain a missing one (another naming
      // scheme, another architecture): show the first few.
      const foreign = [...byName.keys()].filter((n) => !names.has(n));
      const hint = foreign.length
        ? `; the file has ${foreign.length} tensor${foreign.length > 1 ? 's' : ''} this model does not, e.g. ${foreign.slice(0, 3).map(showName).join(', ')}`
        : '';
      throw new ModelFileError('MODEL_MISMATCH', `${fileName}: tensor ${e.name} (${formatShape(e.shape)}) is missing${hint}`);
    }
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      throw new ModelFileError('MODEL_MISMATCH', `${fileName}: tensor ${e.name} has shape ${formatShape(t.shape)}, the model needs ${formatShape(e.shape)}`);
    }
  }
  for (const name of byName.keys()) {
    if (!names.has(name)) throw new ModelFileError('MODEL_MISMATCH', `${fileName}: tensor ${showName(name)} does not belong to this model`);
  }
  return byName;
}

/** A tensor name from a file, fit for a message. */
function showName(name: string): string {
  return /^[\w.\-/:]{1,80}$/.test(name) ? name : quoteValue(name);
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
  const { entries } = readLayout(bytes, fileName);
  const names = new Map(entries.filter((t) => !(t.dtype === 'I64' && t.name.endsWith('.num_batches_tracked'))).map((t) => [t.name, t.shape]));
  const ordered = [...candidates].sort((a, b) => Number(b.name === preferred) - Number(a.name === preferred));
  let best: { name: string; spec: ModelSpec } | null = null;
  let bestShared = -1;
  for (const c of ordered) {
    const index = specTensors(validateSpec(c.spec)); // names and shapes only: nothing is built
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
 *
 * Order matters against hostile files: the header's layout, then the spec against SPEC_CAPS, then
 * every tensor's name and shape against the spec — all before the model (its memory and conv
 * plans) is built; then the values go straight into the model, each tensor checked for NaN and
 * ±Infinity, and batch-norm variances for negative values.
 */
export function decodeModelFile(bytes: Uint8Array, fileName: string, fallbackSpec?: ModelSpec, kernels: Kernels = jsKernels): LoadedModel {
  const layout = readLayout(bytes, fileName);
  const { metadata } = layout;
  const format = metadata.format;
  let raw: unknown;
  let native = false;
  if (format !== undefined) {
    const m = /^lenet-studio-model\/(\d+)$/.exec(format);
    if (!m) throw new ModelFileError('MODEL_FOREIGN', `${fileName}: format ${quoteValue(format, 60)} is not a LeNet Studio model`);
    if (Number(m[1]) > MODEL_FORMAT_VERSION) {
      throw new ModelFileError(
        'MODEL_FOREIGN',
        `${fileName}: model format version ${m[1].slice(0, 12)} is newer than this version of LeNet Studio reads (${MODEL_FORMAT_VERSION}); update the app`,
      );
    }
    raw = parseJsonMeta(metadata.spec, 'spec', fileName);
    if (raw === undefined) throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: metadata has no model spec`);
    native = true;
  } else if (fallbackSpec) {
    raw = fallbackSpec;
  } else {
    throw new ModelFileError(
      'MODEL_FOREIGN',
      `${fileName}: a safetensors file without LeNet Studio metadata; import it with a preset (e.g. --preset lenet5-relu-ce-bn)`,
    );
  }
  let spec: ModelSpec;
  try {
    spec = validateSpec(raw);
  } catch (e) {
    throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: ${(e as Error).message}`);
  }
  const byName = matchTensors(spec, layout.entries, fileName);
  let model: Model;
  try {
    model = new Model(spec, kernels);
  } catch (e) {
    if (e instanceof KernelMemoryError) throw e;
    throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: ${(e as Error).message}`);
  }
  try {
    for (const e of model.index) readF32Into(bytes, layout, byName.get(e.name)!, model.tensor(e.name), fileName);
    model.checkValues(fileName);
    for (const l of model.layers) l.constrain();
  } catch (e) {
    model.dispose();
    throw e;
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) if (k.startsWith('x-')) extra[cleanMetaString(k.slice(2))] = parseJsonMeta(v, k, fileName);
  try {
    temperatureOf(extra.calibration, fileName); // a temperature no fit gives is refused here, for every reader
  } catch (e) {
    model.dispose();
    throw e;
  }
  const preset = metadata.preset ? cleanMetaString(metadata.preset, MAX_PRESET_NAME) : '';
  return {
    model,
    preset: preset || undefined,
    training: parseJsonMeta(metadata.training, 'training', fileName) ?? undefined,
    metrics: parseJsonMeta(metadata.metrics, 'metrics', fileName) ?? undefined,
    dataset: metadata.dataset !== undefined ? cleanMetaString(metadata.dataset, MAX_DATASET_TAG) : undefined,
    extra,
    native,
  };
}
