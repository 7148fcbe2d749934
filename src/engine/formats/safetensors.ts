// The safetensors container (https://github.com/huggingface/safetensors), used for `.lenet` model
// files so PyTorch and other safetensors tools can read the weights:
//
//   u64 little-endian N | N bytes of UTF-8 JSON header | data section
//
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
// the data section) plus an optional "__metadata__" object of string → string.
//
// The decoder is as strict as the reference Rust implementation (tensors must tile the data
// section exactly, no gaps, no overlap, no trailing bytes), so whatever we accept, the reference
// accepts too. Every length is checked against the bytes present before anything is allocated.

import { ModelFileError, assert, quoteValue } from '../errors';

export type SafeDType = 'F32' | 'I64';

export interface SafeTensor {
  name: string;
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | BigInt64Array;
}

export interface SafeTensorInput {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** Our own headers are a few kB; 16 MiB leaves room for large metadata without inviting abuse. */
export const SAFETENSORS_MAX_HEADER_BYTES = 16 * 1024 * 1024;
export const SAFETENSORS_MAX_TENSORS = 10_000;
export const SAFETENSORS_MAX_DIMS = 8;
/** 64M elements = 256 MiB of F32: far above LeNet, still a sane single allocation. */
export const SAFETENSORS_MAX_ELEMENTS = 64 * 1024 * 1024;

const METADATA_KEY = '__metadata__';
const ITEM_SIZE: Readonly<Record<SafeDType, number>> = { F32: 4, I64: 8 };
// dtypes the reference implementation defines; named separately so the message can say the file
// is valid but uses a type we do not read, rather than calling it garbage.
const OTHER_KNOWN_DTYPES = new Set([
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F64',
  'U64',
  'C64',
]);

// Typed arrays use platform byte order; the file is always little-endian.
const PLATFORM_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A name or value quoted for a message: plain names as is, anything odd JSON-quoted and cut short. */
function show(value: string): string {
  return /^[\w.\-/:]{1,80}$/.test(value) ? value : quoteValue(value, 82);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${show(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSafeDType(value: string): value is SafeDType {
  return value === 'F32' || value === 'I64';
}

export function encodeSafetensors(tensors: readonly SafeTensorInput[], metadata: Record<string, string>): Uint8Array {
  const names = new Set<string>();
  const entries: string[] = [];
  const metaKeys = Object.keys(metadata);
  if (metaKeys.length > 0) {
    for (const k of metaKeys) {
      assert(typeof metadata[k] === 'string', `metadata value for ${show(k)} must be a string`);
    }
    entries.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const t of tensors) {
    assert(t.name !== METADATA_KEY && !names.has(t.name), `duplicate or reserved tensor name ${show(t.name)}`);
    names.add(t.name);
    let count = 1;
    for (const d of t.shape) {
      assert(Number.isSafeInteger(d) && d >= 0, `tensor ${show(t.name)} has a bad dimension ${d}`);
      count *= d;
    }
    assert(count === t.data.length, `tensor ${show(t.name)} has shape [${t.shape.join(', ')}] but ${t.data.length} values`);
    // Refusing here beats writing a file that our own decoder (rightly) rejects later.
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i];
      if (!Number.isFinite(v)) {
        throw new ModelFileError('MODEL_NOT_FINITE', `cannot save tensor ${show(t.name)}: value ${i} is ${v}`);
      }
    }
    const end = offset + t.data.byteLength;
    // Built by hand so tensors keep the caller's order; JSON.stringify of an object would move
    // integer-like names ("0", "1") to the front.
    entries.push(`${JSON.stringify(t.name)}:{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  // The reference pads with spaces so the data section starts 8-byte aligned.
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const t of tensors) {
    if (PLATFORM_LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    } else {
      for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + 4 * i, t.data[i], true);
    }
    pos += t.data.byteLength;
  }
  return out;
}

/** One tensor as the header describes it (offsets relative to the data section, already checked). */
export interface SafeEntry {
  name: string;
  dtype: SafeDType;
  shape: number[];
  count: number;
  begin: number;
  end: number;
}

function parseHeader(headerBytes: Uint8Array, fileName: string): unknown {
  const bad = (problem: string): ModelFileError => new ModelFileError('MODEL_BAD_HEADER', `${fileName}: the safetensors header ${problem}`);
  if (headerBytes.length === 0) throw bad('is empty');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw bad('is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    // A RangeError means the engine ran out of stack or memory on a pathological header.
    if (e instanceof RangeError) throw bad('is nested too deeply or too large to parse');
    const detail = e instanceof Error ? e.message.replace(/\s+/g, ' ').slice(0, 120) : '';
    throw bad(`is not JSON${detail ? ` (${detail})` : ''}`);
  }
}

function parseMetadata(value: unknown, fileName: string): Record<string, string> {
  if (!isObject(value)) {
    throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: "__metadata__" must be an object of strings, found ${kindOf(value)}`);
  }
  const pairs: [string, string][] = [];
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (typeof v !== 'string') {
      throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: "__metadata__" value for ${show(key)} must be a string, found ${kindOf(v)}`);
    }
    pairs.push([key, v]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data instead of a prototype.
  return Object.fromEntries(pairs);
}

function parseEntry(name: string, value: unknown, dataLength: number, fileName: string): SafeEntry {
  const bad = (problem: string): ModelFileError => new ModelFileError('MODEL_BAD_TENSOR', `${fileName}: tensor ${show(name)} ${problem}`);
  if (!isObject(value)) throw bad(`must be described by an object, found ${kindOf(value)}`);

  const dtype = value.dtype;
  if (typeof dtype !== 'string') throw bad(`has dtype ${kindOf(dtype)}, expected a string such as "F32"`);
  if (!isSafeDType(dtype)) {
    const known = OTHER_KNOWN_DTYPES.has(dtype);
    throw new ModelFileError(
      'MODEL_BAD_TENSOR',
      `${fileName}: ${known ? 'unsupported' : 'unknown'} dtype ${show(dtype)} for tensor ${show(name)} ` + `(only F32 and I64 are read)`,
    );
  }

  const shape = value.shape;
  if (!Array.isArray(shape)) throw bad(`has shape ${kindOf(shape)}, expected an array of sizes`);
  if (shape.length > SAFETENSORS_MAX_DIMS) {
    throw bad(`has ${shape.length} dimensions, more than the ${SAFETENSORS_MAX_DIMS} allowed`);
  }
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw bad(`has shape entry ${i} = ${kindOf(d)}, expected a non-negative integer`);
    }
    // Products of ≤ 8 safe integers stay finite doubles, so the cap check below is sound.
    count *= d;
  }
  if (count > SAFETENSORS_MAX_ELEMENTS) {
    throw bad(`has shape [${shape.join(', ')}] (${count} elements), above the cap of ${SAFETENSORS_MAX_ELEMENTS}`);
  }

  const offsets = value.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw bad(`has data_offsets ${kindOf(offsets)}, expected [begin, end]`);
  }
  const [begin, end] = offsets as unknown[];
  for (const [label, v] of [
    ['begin', begin],
    ['end', end],
  ] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw bad(`has data_offsets ${label} = ${kindOf(v)}, expected a non-negative integer`);
    }
  }
  const b = begin as number;
  const e = end as number;
  if (b > e) throw bad(`has data_offsets [${b}, ${e}]: begin is after end`);
  if (e > dataLength) {
    throw new ModelFileError(
      'MODEL_TRUNCATED',
      `${fileName}: tensor ${show(name)} needs bytes ${b}..${e} of the data section ` + `but the file holds only ${dataLength} (truncated?)`,
    );
  }
  const bytes = count * ITEM_SIZE[dtype];
  if (e - b !== bytes) {
    throw bad(`has shape [${shape.join(', ')}] of ${dtype} (${bytes} bytes) but data_offsets [${b}, ${e}] span ${e - b} bytes`);
  }
  return { name, dtype, shape: shape.slice() as number[], count, begin: b, end: e };
}

function readI64(bytes: Uint8Array, at: number, count: number): BigInt64Array {
  const out = new BigInt64Array(count);
  if (PLATFORM_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(at, at + 8 * count));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, 8 * count);
    for (let i = 0; i < count; i++) out[i] = view.getBigInt64(8 * i, true);
  }
  return out;
}

/** A checked header: what each tensor is and where its bytes are, before any tensor is read. */
export interface SafetensorsLayout {
  metadata: Record<string, string>;
  /** In file order; they tile the data section exactly. */
  entries: SafeEntry[];
  /** Where the data section starts in the file's bytes. */
  dataStart: number;
}

/**
 * Reads an F32 tensor's values into `out` (its length), refusing NaN and ±Infinity with the
 * tensor's name and the first bad index.
 */
export function readF32Into(bytes: Uint8Array, layout: SafetensorsLayout, t: SafeEntry, out: Float32Array, fileName: string): void {
  assert(t.dtype === 'F32' && out.length === t.count, `tensor ${show(t.name)} read into ${out.length} floats`);
  const at = layout.dataStart + t.begin;
  if (PLATFORM_LITTLE_ENDIAN) {
    // A byte copy works whatever the source alignment.
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes.subarray(at, at + 4 * t.count));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, 4 * t.count);
    for (let i = 0; i < t.count; i++) out[i] = view.getFloat32(4 * i, true);
  }
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (!Number.isFinite(v)) throw new ModelFileError('MODEL_NOT_FINITE', `${fileName}: tensor ${show(t.name)} holds ${v} at index ${i}`);
  }
}

export function decodeSafetensors(bytes: Uint8Array, fileName: string): { tensors: SafeTensor[]; metadata: Record<string, string> } {
  const layout = readSafetensorsLayout(bytes, fileName);
  const tensors: SafeTensor[] = [];
  for (const t of layout.entries) {
    if (t.dtype === 'F32') {
      const data = new Float32Array(t.count);
      readF32Into(bytes, layout, t, data, fileName);
      tensors.push({ name: t.name, dtype: 'F32', shape: t.shape, data });
    } else {
      tensors.push({ name: t.name, dtype: 'I64', shape: t.shape, data: readI64(bytes, layout.dataStart + t.begin, t.count) });
    }
  }
  return { tensors, metadata: layout.metadata };
}

/** Checks the header length, the header and every tensor's place in the data section; reads no tensor. */
export function readSafetensorsLayout(bytes: Uint8Array, fileName: string): SafetensorsLayout {
  if (bytes.length < 8) {
    throw new ModelFileError('MODEL_TRUNCATED', `${fileName}: the file holds ${bytes.length} bytes, too short for a safetensors header length (8 bytes)`);
  }
  const headerLen64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen64 > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw new ModelFileError(
      'MODEL_BAD_HEADER',
      `${fileName}: header length ${headerLen64} bytes is above the ${SAFETENSORS_MAX_HEADER_BYTES / 1024 / 1024} MiB cap ` + `(not a safetensors file?)`,
    );
  }
  const headerLen = Number(headerLen64);
  if (headerLen > bytes.length - 8) {
    throw new ModelFileError('MODEL_TRUNCATED', `${fileName}: header length is ${headerLen} bytes but only ${bytes.length - 8} bytes follow it`);
  }
  const header = parseHeader(bytes.subarray(8, 8 + headerLen), fileName);
  if (!isObject(header)) {
    throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: the safetensors header must be a JSON object, found ${kindOf(header)}`);
  }

  const dataStart = 8 + headerLen;
  const dataLength = bytes.length - dataStart;
  const keys = Object.keys(header);
  const tensorCount = keys.length - (Object.hasOwn(header, METADATA_KEY) ? 1 : 0);
  if (tensorCount > SAFETENSORS_MAX_TENSORS) {
    throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: the header lists ${tensorCount} tensors, above the cap of ${SAFETENSORS_MAX_TENSORS}`);
  }
  let metadata: Record<string, string> = {};
  const entries: SafeEntry[] = [];
  for (const key of keys) {
    if (key === METADATA_KEY) metadata = parseMetadata(header[key], fileName);
    else entries.push(parseEntry(key, header[key], dataLength, fileName));
  }

  // Sorting by offset both finds overlaps/gaps in one pass and restores file order, which
  // JSON.parse loses for integer-like names.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let prev: SafeEntry | undefined;
  for (const t of entries) {
    if (t.begin < covered) {
      throw new ModelFileError(
        'MODEL_BAD_TENSOR',
        `${fileName}: tensors ${show(prev?.name ?? '')} (bytes ${prev?.begin}..${prev?.end}) and ` + `${show(t.name)} (bytes ${t.begin}..${t.end}) overlap`,
      );
    }
    if (t.begin > covered) {
      throw new ModelFileError(
        'MODEL_BAD_TENSOR',
        `${fileName}: bytes ${covered}..${t.begin} of the data section belong to no tensor ` + `(gap before ${show(t.name)})`,
      );
    }
    covered = t.end;
    prev = t;
  }
  if (covered !== dataLength) {
    throw new ModelFileError('MODEL_BAD_HEADER', `${fileName}: the header describes ${covered} bytes of tensor data but the file holds ${dataLength}`);
  }

  return { metadata, entries, dataStart };
}
