// Seeded mutation fuzzing of the file parsers. Each case is reproducible from its index: the
// PRNG is seeded with SEED + index, so a failure message is enough to replay it.

import { describe, expect, it } from 'vitest';
import { DatasetError, EngineError, ModelFileError } from '../../../src/engine/errors';
import { encodeIdxImages, encodeIdxLabels, parseIdxImages, parseIdxLabels } from '../../../src/engine/formats/idx';
import { decodeSafetensors, encodeSafetensors } from '../../../src/engine/formats/safetensors';
import { type Prng, mulberry32 } from '../../helpers/prng';

const CASES = 10_000;
const SEED = 0x5eed;

type Mutation = (rng: Prng, b: Uint8Array) => Uint8Array;

const INTERESTING_U32 = [0, 1, 2, 3, 4, 27, 28, 29, 255, 256, 1024, 1025, 0x7fffffff, 0x80000000, 0xffffffff, 10_000_000, 10_000_001];
const INTERESTING_BYTES = [0x00, 0x01, 0x08, 0x1f, 0x7f, 0x80, 0x8b, 0xff];

const bitFlip: Mutation = (rng, b) => {
  const out = b.slice();
  if (out.length === 0) return out;
  for (let k = 1 + rng.int(8); k > 0; k--) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return out;
};

const byteSet: Mutation = (rng, b) => {
  const out = b.slice();
  if (out.length === 0) return out;
  for (let k = 1 + rng.int(4); k > 0; k--) {
    out[rng.int(out.length)] = rng.next() < 0.5 ? rng.byte() : rng.pick(INTERESTING_BYTES);
  }
  return out;
};

const truncate: Mutation = (rng, b) => b.slice(0, rng.int(b.length + 1));

const extend: Mutation = (rng, b) => {
  const out = new Uint8Array(b.length + 1 + rng.int(16));
  out.set(b);
  for (let i = b.length; i < out.length; i++) out[i] = rng.byte();
  return out;
};

/** Deletes a chunk, or copies a chunk of the file to another place (duplicating structure). */
const splice: Mutation = (rng, b) => {
  if (b.length < 2) return b.slice();
  const a = rng.int(b.length);
  const len = 1 + rng.int(Math.min(64, b.length - a));
  if (rng.next() < 0.5) {
    const out = new Uint8Array(b.length - len);
    out.set(b.subarray(0, a));
    out.set(b.subarray(a + len), a);
    return out;
  }
  const at = rng.int(b.length + 1);
  const chunk = b.slice(a, a + len);
  const out = new Uint8Array(b.length + len);
  out.set(b.subarray(0, at));
  out.set(chunk, at);
  out.set(b.subarray(at), at + len);
  return out;
};

/** Overwrites one big-endian u32 of an IDX header (magic, count, rows, cols) with an edge value. */
function idxLengthField(headerWords: number): Mutation {
  return (rng, b) => {
    const out = b.slice();
    const word = rng.int(headerWords);
    if (out.length < 4 * word + 4) return out;
    const view = new DataView(out.buffer);
    const old = view.getUint32(4 * word, false);
    const roll = rng.next();
    const v = roll < 0.5 ? rng.pick(INTERESTING_U32) : roll < 0.8 ? old + rng.int(5) - 2 : rng.int(2 ** 32);
    view.setUint32(4 * word, v >>> 0, false);
    return out;
  };
}

function runCases(
  name: string,
  base: readonly Uint8Array[],
  mutations: readonly [string, Mutation][],
  parse: (b: Uint8Array) => void,
  errorClass: typeof DatasetError | typeof ModelFileError,
): Map<string, number> {
  const outcomes = new Map<string, number>();
  for (let i = 0; i < CASES; i++) {
    const rng = mulberry32(SEED + i);
    let bytes = rng.pick(base);
    const applied: string[] = [];
    for (let k = 1 + rng.int(3); k > 0; k--) {
      const [label, m] = rng.pick(mutations);
      applied.push(label);
      bytes = m(rng, bytes);
    }
    let outcome = 'ok';
    try {
      parse(bytes);
    } catch (e) {
      const ok = e instanceof EngineError && e instanceof errorClass && typeof e.code === 'string' && e.message.startsWith('f: ');
      if (!ok) {
        throw new Error(`${name} case ${i} (${applied.join(' + ')}): threw ${String(e)}`, { cause: e });
      }
      outcome = e.code;
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  return outcomes;
}

const common: [string, Mutation][] = [
  ['bitFlip', bitFlip],
  ['byteSet', byteSet],
  ['truncate', truncate],
  ['extend', extend],
  ['splice', splice],
];

function pixelsOf(rng: Prng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.byte());
}

describe('parser fuzzing', () => {
  it(`idx images: ${CASES} seeded mutations give a result or a DatasetError`, () => {
    const rng = mulberry32(1);
    const base = [
      encodeIdxImages({ count: 3, rows: 4, cols: 4, pixels: pixelsOf(rng, 48) }),
      encodeIdxImages({ count: 1, rows: 28, cols: 28, pixels: pixelsOf(rng, 784) }),
      encodeIdxImages({ count: 5, rows: 2, cols: 3, pixels: pixelsOf(rng, 30) }),
    ];
    const outcomes = runCases(
      'idx images',
      base,
      [...common, ['lengthField', idxLengthField(4)], ['lengthField', idxLengthField(4)]],
      (b) => {
        const r = parseIdxImages(b, 'f');
        expect(r.pixels.length).toBe(r.count * r.rows * r.cols);
        expect(r.count).toBeGreaterThan(0);
        expect(r.rows >= 1 && r.rows <= 1024 && r.cols >= 1 && r.cols <= 1024).toBe(true);
      },
      DatasetError,
    );
    for (const code of ['ok', 'IDX_BAD_MAGIC', 'IDX_TRUNCATED', 'IDX_TRAILING_BYTES', 'IDX_BAD_DIMS', 'IDX_TOO_LARGE']) {
      expect(outcomes.get(code), `${code} in ${JSON.stringify([...outcomes])}`).toBeGreaterThan(0);
    }
  });

  it(`idx labels: ${CASES} seeded mutations give a result or a DatasetError`, () => {
    const rng = mulberry32(2);
    const base = [encodeIdxLabels(Uint8Array.from({ length: 20 }, () => rng.int(10))), encodeIdxLabels(Uint8Array.of(7))];
    const outcomes = runCases(
      'idx labels',
      base,
      [...common, ['lengthField', idxLengthField(2)], ['lengthField', idxLengthField(2)]],
      (b) => {
        const labels = parseIdxLabels(b, 'f');
        expect(labels.length).toBe(b.length - 8);
        expect(labels.every((l) => l < 10)).toBe(true);
      },
      DatasetError,
    );
    for (const code of ['ok', 'IDX_BAD_MAGIC', 'IDX_TRUNCATED', 'IDX_TRAILING_BYTES', 'IDX_TOO_LARGE', 'IDX_LABEL_RANGE']) {
      expect(outcomes.get(code), `${code} in ${JSON.stringify([...outcomes])}`).toBeGreaterThan(0);
    }
  });

  it(`safetensors: ${CASES} seeded mutations give a result or a ModelFileError`, () => {
    const rng = mulberry32(3);
    const floats = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.next() - 0.5);
    const encoded = encodeSafetensors(
      [
        { name: 'conv1.weight', shape: [2, 1, 3, 3], data: floats(18) },
        { name: 'conv1.bias', shape: [2], data: floats(2) },
        { name: 'empty', shape: [0], data: new Float32Array(0) },
        { name: 'fc.weight', shape: [3, 4], data: floats(12) },
      ],
      { format: 'lenet-studio/1', spec: '{"layers":[]}' },
    );
    // Hand-built so the fuzzer also walks the I64 path.
    const i64Header = new TextEncoder().encode(
      JSON.stringify({
        'bn.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [0, 8] },
        'bn.running_mean': { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
      }),
    );
    const handBuilt = new Uint8Array(8 + i64Header.length + 16);
    const hv = new DataView(handBuilt.buffer);
    hv.setBigUint64(0, BigInt(i64Header.length), true);
    handBuilt.set(i64Header, 8);
    hv.setBigInt64(8 + i64Header.length, 42n, true);
    hv.setFloat32(8 + i64Header.length + 8, 0.25, true);
    hv.setFloat32(8 + i64Header.length + 12, -1, true);
    const base = [encoded, handBuilt];

    const INTERESTING_LEN = [0n, 1n, 2n, 7n, 8n, 2n ** 24n, 2n ** 24n + 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
    const headerLength: Mutation = (r, b) => {
      const out = b.slice();
      if (out.length < 8) return out;
      const view = new DataView(out.buffer);
      const old = view.getBigUint64(0, true);
      const v = r.next() < 0.5 ? r.pick(INTERESTING_LEN) : old + BigInt(r.int(9) - 4);
      view.setBigUint64(0, BigInt.asUintN(64, v), true);
      return out;
    };

    // Structure-aware: rewrite one JSON field and re-emit a consistent header length, so the
    // case gets past JSON parsing and exercises the per-tensor checks.
    const EDGE_VALUES: unknown[] = [-1, 0, 1, 1.5, 2 ** 31, 2 ** 53, 1e300, '3', null, [], {}, true, 'BF16', 'I64', 'F32', 'F16', [0, 0], [1, 2, 3]];
    const jsonField: Mutation = (r, b) => {
      if (b.length < 8) return b.slice();
      const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
      if (n > b.length - 8) return b.slice();
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Record<string, unknown>;
      } catch {
        return b.slice();
      }
      if (typeof header !== 'object' || header === null) return b.slice();
      const keys = Object.keys(header);
      const key = keys.length > 0 ? r.pick(keys) : 'x';
      const target = header[key];
      const roll = r.next();
      if (roll < 0.1) {
        delete header[key];
      } else if (roll < 0.2) {
        header[`extra${r.int(100)}`] = { dtype: r.pick(['F32', 'I64', 'U8']), shape: [r.int(4)], data_offsets: [r.int(64), r.int(64)] };
      } else if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
        const t = target as Record<string, unknown>;
        const field = r.pick([...Object.keys(t), 'dtype', 'shape', 'data_offsets']);
        const cur = t[field];
        if (Array.isArray(cur) && cur.length > 0 && r.next() < 0.6) {
          const arr = [...(cur as unknown[])];
          const i = r.int(arr.length);
          arr[i] = r.next() < 0.5 ? r.pick(EDGE_VALUES) : (typeof arr[i] === 'number' ? (arr[i] as number) : 0) + r.int(9) - 4;
          if (r.next() < 0.1) arr.push(r.int(4));
          t[field] = arr;
        } else {
          t[field] = r.pick(EDGE_VALUES);
        }
      } else {
        header[key] = r.pick(EDGE_VALUES);
      }
      const text = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(r.int(9)));
      const data = b.subarray(8 + n);
      const out = new Uint8Array(8 + text.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
      out.set(text, 8);
      out.set(data, 8 + text.length);
      return out;
    };

    /** Writes NaN/Inf bit patterns into the data section. */
    const nonFinite: Mutation = (r, b) => {
      const out = b.slice();
      const at = out.length - 4 * (1 + r.int(4));
      if (at < 8) return out;
      new DataView(out.buffer).setFloat32(at, r.pick([NaN, Infinity, -Infinity]), true);
      return out;
    };

    const outcomes = runCases(
      'safetensors',
      base,
      [...common, ['headerLength', headerLength], ['jsonField', jsonField], ['jsonField', jsonField], ['jsonField', jsonField], ['nonFinite', nonFinite]],
      (b) => {
        const { tensors, metadata } = decodeSafetensors(b, 'f');
        for (const v of Object.values(metadata)) expect(typeof v).toBe('string');
        for (const t of tensors) {
          expect(['F32', 'I64']).toContain(t.dtype);
          expect(t.data.length).toBe(t.shape.reduce((a, d) => a * d, 1));
          if (t.data instanceof Float32Array) expect(t.data.every(Number.isFinite)).toBe(true);
        }
      },
      ModelFileError,
    );
    for (const code of ['ok', 'MODEL_TRUNCATED', 'MODEL_BAD_HEADER', 'MODEL_BAD_TENSOR', 'MODEL_NOT_FINITE']) {
      expect(outcomes.get(code), `${code} in ${JSON.stringify([...outcomes])}`).toBeGreaterThan(0);
    }
  });
});
