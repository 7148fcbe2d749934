import { describe, expect, it } from 'vitest';
import { ModelFileError, type EngineErrorCode } from '../../../src/engine/errors';
import { decodeSafetensors, encodeSafetensors } from '../../../src/engine/formats/safetensors';
import { mulberry32 } from '../../helpers/prng';

/** A file from a literal header text and data bytes; `headerLen` overrides the length field. */
function rawFile(headerText: string | Uint8Array, data: Uint8Array = new Uint8Array(0), headerLen?: bigint): Uint8Array {
  const header = typeof headerText === 'string' ? new TextEncoder().encode(headerText) : headerText;
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

function modelError(fn: () => unknown): ModelFileError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    return e as ModelFileError;
  }
  throw new Error('expected a ModelFileError, but decoding succeeded');
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function randomF32(n: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 4);
}

const lenetLike = [
  { name: 'conv1.weight', shape: [6, 1, 5, 5], data: randomF32(150, 1) },
  { name: 'conv1.bias', shape: [6], data: randomF32(6, 2) },
  { name: 'fc3.weight', shape: [10, 84], data: randomF32(840, 3) },
  { name: 'scale', shape: [], data: Float32Array.of(0.5) },
];
const lenetMeta = { format: 'lenet-studio/1', spec: JSON.stringify({ layers: ['conv', 'pool'] }), note: 'ünïcødé ✓' };

describe('safetensors round trip', () => {
  it('keeps metadata, names, order, shapes and values bit for bit', () => {
    const bytes = encodeSafetensors(lenetLike, lenetMeta);
    const { tensors, metadata } = decodeSafetensors(bytes, 'model.lenet');
    expect(metadata).toEqual(lenetMeta);
    expect(tensors.map((t) => t.name)).toEqual(lenetLike.map((t) => t.name));
    tensors.forEach((t, i) => {
      expect(t.dtype).toBe('F32');
      expect(t.shape).toEqual(lenetLike[i].shape);
      expect(t.data).toBeInstanceOf(Float32Array);
      expect(bits(t.data as Float32Array)).toEqual(bits(lenetLike[i].data));
    });
  });

  it('keeps awkward float values bit for bit (−0, subnormals, extremes)', () => {
    const data = Float32Array.of(-0, 0, 1e-45, -1.17549435e-38, 3.4028234663852886e38, -3.4028234663852886e38, Math.PI);
    const [t] = decodeSafetensors(encodeSafetensors([{ name: 'w', shape: [7], data }], {}), 'f').tensors;
    expect(bits(t.data as Float32Array)).toEqual(bits(data));
  });

  it('keeps caller order for integer-like names and empty tensors', () => {
    const input = [
      { name: 'z', shape: [2], data: Float32Array.of(1, 2) },
      { name: '10', shape: [0, 3], data: new Float32Array(0) },
      { name: '0', shape: [1], data: Float32Array.of(3) },
    ];
    const { tensors } = decodeSafetensors(encodeSafetensors(input, {}), 'f');
    expect(tensors.map((t) => [t.name, t.shape, [...t.data]])).toEqual([
      ['z', [2], [1, 2]],
      ['10', [0, 3], []],
      ['0', [1], [3]],
    ]);
  });

  it('treats "__proto__" as plain data in metadata and names', () => {
    const meta = Object.fromEntries([['__proto__', 'x']]) as Record<string, string>;
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors([{ name: '__proto__', shape: [1], data: Float32Array.of(1) }], meta), 'f');
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(Object.keys(metadata)).toEqual(['__proto__']);
    expect(tensors[0].name).toBe('__proto__');
  });

  it('writes the layout of the reference implementation: space padding to 8 bytes, little-endian data', () => {
    const bytes = encodeSafetensors([{ name: 'a', shape: [2], data: Float32Array.of(1, 2) }], {});
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const padded = json + ' '.repeat(56 - json.length);
    const expected = [
      56,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...Array.from(new TextEncoder().encode(padded)),
      0x00,
      0x00,
      0x80,
      0x3f, // 1.0f
      0x00,
      0x00,
      0x00,
      0x40, // 2.0f
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  it('pads every header so the data section is 8-byte aligned', () => {
    for (let n = 0; n < 12; n++) {
      const bytes = encodeSafetensors([{ name: 'x'.repeat(n + 1), shape: [1], data: Float32Array.of(n) }], { k: 'v'.repeat(n) });
      const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(headerLen % 8).toBe(0);
      expect(decodeSafetensors(bytes, 'f').tensors[0].data[0]).toBe(n);
    }
  });

  it('reads an I64 tensor from a hand-built file', () => {
    const data = new Uint8Array(24);
    const view = new DataView(data.buffer);
    view.setBigInt64(0, 1n, true);
    view.setBigInt64(8, -2n, true);
    view.setBigInt64(16, 9007199254740993n, true);
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      'bn1.num_batches_tracked': { dtype: 'I64', shape: [3], data_offsets: [0, 24] },
    });
    const { tensors, metadata } = decodeSafetensors(rawFile(header, data), 'f');
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors[0].dtype).toBe('I64');
    expect(tensors[0].data).toBeInstanceOf(BigInt64Array);
    expect([...tensors[0].data]).toEqual([1n, -2n, 9007199254740993n]);
  });

  it('reads a file whose data section is not 4-byte aligned in memory', () => {
    const header = '{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}'; // 55 bytes: unaligned data
    const file = rawFile(header, f32Bytes([1.5, -2.25, 3]));
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const [t] = decodeSafetensors(shifted.subarray(1), 'f').tensors;
    expect([...t.data]).toEqual([1.5, -2.25, 3]);
  });

  it('accepts a header with no tensors and no metadata', () => {
    expect(decodeSafetensors(rawFile('{}'), 'f')).toEqual({ tensors: [], metadata: {} });
  });

  it('refuses to encode non-finite weights', () => {
    const err = modelError(() => encodeSafetensors([{ name: 'w', shape: [2], data: Float32Array.of(1, NaN) }], {}));
    expect(err.code).toBe('MODEL_NOT_FINITE');
  });
});

const entry = (dtype: unknown, shape: unknown, offsets: unknown): Record<string, unknown> => ({
  dtype,
  shape,
  data_offsets: offsets,
});
const header = (obj: unknown): string => JSON.stringify(obj);

interface BadCase {
  name: string;
  bytes: Uint8Array;
  code: EngineErrorCode;
  message?: RegExp;
}

const twoFloats = f32Bytes([1, 2]);
const deepJson = '{"__metadata__":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}';

const badCases: BadCase[] = [
  { name: 'empty file', bytes: new Uint8Array(0), code: 'MODEL_TRUNCATED' },
  { name: 'short file (5 bytes)', bytes: Uint8Array.of(2, 0, 0, 0, 0), code: 'MODEL_TRUNCATED', message: /holds 5 bytes/ },
  {
    name: 'header length beyond the file',
    bytes: rawFile('{}', new Uint8Array(0), 100n),
    code: 'MODEL_TRUNCATED',
    message: /header length is 100 bytes but only 2 bytes follow/,
  },
  {
    name: 'huge header length (2^63)',
    bytes: rawFile('{}', new Uint8Array(0), 2n ** 63n),
    code: 'MODEL_BAD_HEADER',
    message: /header length 9223372036854775808 bytes is above the 16 MiB cap/,
  },
  { name: 'header length just above the cap', bytes: rawFile('{}', new Uint8Array(0), 16n * 1024n * 1024n + 1n), code: 'MODEL_BAD_HEADER' },
  { name: 'empty header', bytes: rawFile(''), code: 'MODEL_BAD_HEADER', message: /is empty/ },
  { name: 'header not JSON', bytes: rawFile('{"a": nope}'), code: 'MODEL_BAD_HEADER', message: /not JSON/ },
  { name: 'header not UTF-8', bytes: rawFile(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d)), code: 'MODEL_BAD_HEADER', message: /UTF-8/ },
  { name: 'header is a JSON array', bytes: rawFile('[1,2]'), code: 'MODEL_BAD_HEADER', message: /found an array/ },
  { name: 'header is JSON null', bytes: rawFile('null'), code: 'MODEL_BAD_HEADER', message: /found null/ },
  { name: 'deeply nested header', bytes: rawFile(deepJson), code: 'MODEL_BAD_HEADER' },
  {
    name: 'metadata with a non-string value',
    bytes: rawFile(header({ __metadata__: { epochs: 3 } })),
    code: 'MODEL_BAD_HEADER',
    message: /"__metadata__" value for epochs must be a string, found number 3/,
  },
  { name: 'metadata is an array', bytes: rawFile(header({ __metadata__: ['a'] })), code: 'MODEL_BAD_HEADER' },
  {
    name: 'tensor entry is not an object',
    bytes: rawFile(header({ w: [1, 2] })),
    code: 'MODEL_BAD_TENSOR',
  },
  {
    name: 'unsupported dtype BF16',
    bytes: rawFile(header({ 'conv1.weight': entry('BF16', [2], [0, 4]) }), new Uint8Array(4)),
    code: 'MODEL_BAD_TENSOR',
    message: /^m: unsupported dtype BF16 for tensor conv1\.weight/,
  },
  {
    name: 'unknown dtype',
    bytes: rawFile(header({ w: entry('Q7', [2], [0, 8]) }), twoFloats),
    code: 'MODEL_BAD_TENSOR',
    message: /unknown dtype Q7 for tensor w/,
  },
  { name: 'missing dtype', bytes: rawFile(header({ w: { shape: [2], data_offsets: [0, 8] } }), twoFloats), code: 'MODEL_BAD_TENSOR' },
  {
    name: 'negative shape',
    bytes: rawFile(header({ w: entry('F32', [-2], [0, 8]) }), twoFloats),
    code: 'MODEL_BAD_TENSOR',
    message: /shape entry 0 = number -2/,
  },
  { name: 'float shape', bytes: rawFile(header({ w: entry('F32', [2.5], [0, 8]) }), twoFloats), code: 'MODEL_BAD_TENSOR' },
  { name: 'string shape entry', bytes: rawFile(header({ w: entry('F32', ['2'], [0, 8]) }), twoFloats), code: 'MODEL_BAD_TENSOR' },
  { name: 'shape not an array', bytes: rawFile(header({ w: entry('F32', 2, [0, 8]) }), twoFloats), code: 'MODEL_BAD_TENSOR' },
  {
    name: 'too many dimensions',
    bytes: rawFile(header({ w: entry('F32', [1, 1, 1, 1, 1, 1, 1, 1, 2], [0, 8]) }), twoFloats),
    code: 'MODEL_BAD_TENSOR',
    message: /9 dimensions/,
  },
  {
    name: 'element count above the cap',
    bytes: rawFile(header({ w: entry('F32', [65536, 65536], [0, 8]) }), twoFloats),
    code: 'MODEL_BAD_TENSOR',
    message: /4294967296 elements/,
  },
  {
    name: 'offsets beyond the data',
    bytes: rawFile(header({ w: entry('F32', [2], [4, 12]) }), twoFloats),
    code: 'MODEL_TRUNCATED',
    message: /needs bytes 4\.\.12 of the data section but the file holds only 8/,
  },
  { name: 'offsets begin after end', bytes: rawFile(header({ w: entry('F32', [0], [8, 0]) }), twoFloats), code: 'MODEL_BAD_TENSOR' },
  { name: 'offsets negative', bytes: rawFile(header({ w: entry('F32', [2], [-8, 0]) }), twoFloats), code: 'MODEL_BAD_TENSOR' },
  { name: 'offsets with three numbers', bytes: rawFile(header({ w: entry('F32', [2], [0, 8, 8]) }), twoFloats), code: 'MODEL_BAD_TENSOR' },
  { name: 'offsets as strings', bytes: rawFile(header({ w: entry('F32', [2], ['0', '8']) }), twoFloats), code: 'MODEL_BAD_TENSOR' },
  {
    name: 'overlapping offsets',
    bytes: rawFile(header({ a: entry('F32', [2], [0, 8]), b: entry('F32', [2], [4, 12]) }), f32Bytes([1, 2, 3])),
    code: 'MODEL_BAD_TENSOR',
    message: /tensors a \(bytes 0\.\.8\) and b \(bytes 4\.\.12\) overlap/,
  },
  {
    name: 'two tensors on the same bytes',
    bytes: rawFile(header({ a: entry('F32', [2], [0, 8]), b: entry('F32', [2], [0, 8]) }), twoFloats),
    code: 'MODEL_BAD_TENSOR',
    message: /overlap/,
  },
  {
    name: 'gap between tensors',
    bytes: rawFile(header({ a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [8, 12]) }), f32Bytes([1, 2, 3])),
    code: 'MODEL_BAD_TENSOR',
    message: /bytes 4\.\.8 of the data section belong to no tensor/,
  },
  {
    name: 'trailing bytes after the last tensor',
    bytes: rawFile(header({ a: entry('F32', [1], [0, 4]) }), twoFloats),
    code: 'MODEL_BAD_HEADER',
    message: /describes 4 bytes of tensor data but the file holds 8/,
  },
  {
    name: 'size mismatch between shape and offsets',
    bytes: rawFile(header({ w: entry('F32', [3], [0, 8]) }), twoFloats),
    code: 'MODEL_BAD_TENSOR',
    message: /\(12 bytes\) but data_offsets \[0, 8\] span 8 bytes/,
  },
  {
    name: 'NaN weight',
    bytes: rawFile(header({ 'fc1.weight': entry('F32', [3], [0, 12]) }), f32Bytes([1, 2, NaN])),
    code: 'MODEL_NOT_FINITE',
    message: /^m: tensor fc1\.weight holds NaN at index 2$/,
  },
  {
    name: '+Infinity weight',
    bytes: rawFile(header({ w: entry('F32', [2], [0, 8]) }), f32Bytes([Infinity, 0])),
    code: 'MODEL_NOT_FINITE',
    message: /Infinity at index 0/,
  },
  {
    name: '−Infinity weight',
    bytes: rawFile(header({ w: entry('F32', [2], [0, 8]) }), f32Bytes([0, -Infinity])),
    code: 'MODEL_NOT_FINITE',
    message: /-Infinity at index 1/,
  },
  {
    name: 'more than 10,000 tensors',
    bytes: rawFile(header(Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`t${i}`, entry('F32', [0], [0, 0])])))),
    code: 'MODEL_BAD_HEADER',
    message: /10001 tensors/,
  },
];

describe('safetensors malformed inputs', () => {
  it.each(badCases)('$name → $code', ({ bytes, code, message }) => {
    const err = modelError(() => decodeSafetensors(bytes, 'm'));
    expect(err.code).toBe(code);
    if (message) expect(err.message).toMatch(message);
    expect(err.message.startsWith('m: ')).toBe(true);
  });

  it('names unusual tensor names safely quoted and cut short', () => {
    const name = 'w\n'.repeat(100);
    const err = modelError(() => decodeSafetensors(rawFile(header({ [name]: entry('BF16', [1], [0, 2]) }), new Uint8Array(2)), 'm'));
    expect(err.message).not.toContain('\n');
    expect(err.message.length).toBeLessThan(200);
  });

  it('accepts exactly 10,000 tensors', () => {
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`t${i}`, entry('F32', [0], [0, 0])]));
    expect(decodeSafetensors(rawFile(header(many)), 'm').tensors).toHaveLength(10_000);
  });
});

describe('safetensors truncation at every byte boundary', () => {
  const file = encodeSafetensors(
    [
      { name: 'a', shape: [2, 3], data: randomF32(6, 9) },
      { name: 'b', shape: [4], data: randomF32(4, 10) },
    ],
    { format: 'test' },
  );

  it(`all proper prefixes of a small file give a typed error`, () => {
    expect(file.length).toBeGreaterThan(100);
    const codes = new Set<string>();
    for (let n = 0; n < file.length; n++) {
      const err = modelError(() => decodeSafetensors(file.slice(0, n), 'm'));
      expect(['MODEL_TRUNCATED', 'MODEL_BAD_HEADER'], `prefix of ${n} bytes`).toContain(err.code);
      codes.add(err.code);
    }
    expect([...codes].sort()).toEqual(['MODEL_TRUNCATED']);
    expect(decodeSafetensors(file.slice(), 'm').tensors).toHaveLength(2);
  });
});
