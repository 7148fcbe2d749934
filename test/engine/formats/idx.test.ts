import { describe, expect, it } from 'vitest';
import { DatasetError, type EngineErrorCode } from '../../../src/engine/errors';
import { encodeIdxImages, encodeIdxLabels, pairImagesLabels, parseIdxImages, parseIdxLabels } from '../../../src/engine/formats/idx';
import { mulberry32 } from '../../helpers/prng';

function header(...words: number[]): Uint8Array {
  const out = new Uint8Array(4 * words.length);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(4 * i, w >>> 0, false));
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Runs `fn`, requires a DatasetError, returns it. */
function datasetError(fn: () => unknown): DatasetError {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error(`expected a DatasetError, got a result: ${String(result)}`);
}

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => rng.byte());
}

const small = { count: 3, rows: 4, cols: 4, pixels: randomBytes(48, 1) };
const smallFile = encodeIdxImages(small);
const smallLabels = encodeIdxLabels(Uint8Array.from([7, 2, 1]));

describe('IDX round trip', () => {
  it('encodes and parses images unchanged', () => {
    const img = { count: 5, rows: 28, cols: 28, pixels: randomBytes(5 * 28 * 28, 2) };
    const bytes = encodeIdxImages(img);
    expect(bytes.length).toBe(16 + 5 * 784);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 5]);
    const back = parseIdxImages(bytes, 'x');
    expect(back.count).toBe(5);
    expect(back.rows).toBe(28);
    expect(back.cols).toBe(28);
    expect(back.pixels).toEqual(img.pixels);
  });

  it('parses non-square images and keeps rows and cols apart', () => {
    const back = parseIdxImages(encodeIdxImages({ count: 2, rows: 3, cols: 5, pixels: randomBytes(30, 3) }), 'x');
    expect([back.count, back.rows, back.cols]).toEqual([2, 3, 5]);
  });

  it('parses from a view at an odd offset of a larger buffer', () => {
    const padded = concat(Uint8Array.of(9, 9, 9), smallFile, Uint8Array.of(9));
    const view = padded.subarray(3, 3 + smallFile.length);
    expect(parseIdxImages(view, 'x').pixels).toEqual(small.pixels);
  });

  it('encodes and parses labels, and pairs them with images', () => {
    const labels = parseIdxLabels(smallLabels, 'labels');
    expect(Array.from(labels)).toEqual([7, 2, 1]);
    const pair = pairImagesLabels(parseIdxImages(smallFile, 'images'), labels, 'images', 'labels');
    expect(pair.count).toBe(3);
    expect(Array.from(pair.labels)).toEqual([7, 2, 1]);
    expect(pair.pixels).toEqual(small.pixels);
  });

  it('accepts labels up to numClasses − 1', () => {
    const bytes = encodeIdxLabels(Uint8Array.from([0, 25, 3]));
    expect(Array.from(parseIdxLabels(bytes, 'letters', 26))).toEqual([0, 25, 3]);
  });
});

interface BadCase {
  name: string;
  parse: 'images' | 'labels';
  bytes: Uint8Array;
  code: EngineErrorCode;
  message?: RegExp;
}

const badCases: BadCase[] = [
  {
    name: 'wrong magic',
    parse: 'images',
    bytes: concat(header(0x12345678, 1, 1, 1), Uint8Array.of(0)),
    code: 'IDX_BAD_MAGIC',
    message: /^img: expected an IDX image file \(magic 0x00000803\), but found magic 0x12345678/,
  },
  {
    name: 'gzip bytes that were not decompressed',
    parse: 'images',
    bytes: Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8),
    code: 'IDX_BAD_MAGIC',
    message: /gzip/,
  },
  {
    name: 'gzip magic alone (2 bytes)',
    parse: 'labels',
    bytes: Uint8Array.of(0x1f, 0x8b),
    code: 'IDX_BAD_MAGIC',
    message: /gzip/,
  },
  {
    name: 'label-file magic given as images',
    parse: 'images',
    bytes: smallLabels,
    code: 'IDX_BAD_MAGIC',
    message: /0x00000801.*label file/,
  },
  {
    name: 'image-file magic given as labels',
    parse: 'labels',
    bytes: smallFile,
    code: 'IDX_BAD_MAGIC',
    message: /0x00000803.*image file/,
  },
  {
    name: 'float32 IDX file',
    parse: 'images',
    bytes: concat(header(0x00000d03, 1, 1, 1), new Uint8Array(4)),
    code: 'IDX_BAD_MAGIC',
    message: /float32 values with 3 dimensions/,
  },
  { name: 'empty file', parse: 'images', bytes: new Uint8Array(0), code: 'IDX_TRUNCATED' },
  {
    name: 'truncated image header',
    parse: 'images',
    bytes: header(0x803, 1, 28).subarray(0, 10),
    code: 'IDX_TRUNCATED',
    message: /holds 10 bytes but an IDX image header needs 16/,
  },
  { name: 'truncated label header', parse: 'labels', bytes: header(0x801, 3).subarray(0, 6), code: 'IDX_TRUNCATED' },
  {
    name: 'truncated image data',
    parse: 'images',
    bytes: smallFile.subarray(0, smallFile.length - 1),
    code: 'IDX_TRUNCATED',
    message: /^img: header says 3×4×4 images \(48 bytes\) but the file holds 47 bytes of data$/,
  },
  { name: 'truncated label data', parse: 'labels', bytes: smallLabels.subarray(0, 10), code: 'IDX_TRUNCATED' },
  {
    name: 'trailing bytes after images',
    parse: 'images',
    bytes: concat(smallFile, Uint8Array.of(0)),
    code: 'IDX_TRAILING_BYTES',
    message: /49 bytes of data/,
  },
  { name: 'trailing bytes after labels', parse: 'labels', bytes: concat(smallLabels, Uint8Array.of(1)), code: 'IDX_TRAILING_BYTES' },
  { name: 'zero images', parse: 'images', bytes: header(0x803, 0, 28, 28), code: 'IDX_BAD_DIMS', message: /0 images/ },
  { name: 'zero labels', parse: 'labels', bytes: header(0x801, 0), code: 'IDX_BAD_DIMS', message: /0 labels/ },
  { name: 'zero rows', parse: 'images', bytes: header(0x803, 1, 0, 28), code: 'IDX_BAD_DIMS' },
  {
    name: 'huge dims',
    parse: 'images',
    bytes: header(0x803, 1, 4096, 28),
    code: 'IDX_BAD_DIMS',
    message: /4096×28; each side must be 1\.\.1024/,
  },
  { name: 'dims of 2^32 − 1', parse: 'images', bytes: header(0x803, 1, 0xffffffff, 0xffffffff), code: 'IDX_BAD_DIMS' },
  {
    name: 'count above the cap',
    parse: 'images',
    bytes: header(0x803, 10_000_001, 1, 1),
    code: 'IDX_TOO_LARGE',
    message: /10000001 images, above the cap/,
  },
  { name: 'label count above the cap', parse: 'labels', bytes: header(0x801, 0xffffffff), code: 'IDX_TOO_LARGE' },
  {
    name: 'label out of range',
    parse: 'labels',
    bytes: encodeIdxLabels(Uint8Array.from([1, 2, 3, 10, 255])),
    code: 'IDX_LABEL_RANGE',
    message: /^lbl: label 3 is 10 but classes are 0\.\.9 \(2 labels are out of range\)$/,
  },
];

describe('IDX malformed inputs', () => {
  it.each(badCases)('$name → $code', ({ parse, bytes, code, message }) => {
    const err = datasetError(() => (parse === 'images' ? parseIdxImages(bytes, 'img') : parseIdxLabels(bytes, 'lbl')));
    expect(err.code).toBe(code);
    if (message) expect(err.message).toMatch(message);
  });

  it('label out of range for a smaller numClasses', () => {
    const err = datasetError(() => parseIdxLabels(encodeIdxLabels(Uint8Array.from([0, 4, 5])), 'lbl', 5));
    expect(err.code).toBe('IDX_LABEL_RANGE');
    expect(err.message).toBe('lbl: label 2 is 5 but classes are 0..4');
  });

  it('count mismatch between images and labels → IDX_COUNT_MISMATCH', () => {
    const images = parseIdxImages(smallFile, 'train-images-idx3-ubyte');
    const labels = parseIdxLabels(encodeIdxLabels(Uint8Array.from([1, 2])), 'train-labels-idx1-ubyte');
    const err = datasetError(() => pairImagesLabels(images, labels, 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'));
    expect(err.code).toBe('IDX_COUNT_MISMATCH');
    expect(err.message).toBe('train-images-idx3-ubyte holds 3 images but train-labels-idx1-ubyte holds 2 labels');
  });

  it('a 16-byte file whose header claims 2^31 images → typed error, nothing allocated', () => {
    // Were the parser to trust the header it would need 2^31·784 bytes: allocating that throws a
    // RangeError, not a DatasetError, so a typed error shows the sizes were checked first.
    const before = process.memoryUsage().arrayBuffers;
    const err = datasetError(() => parseIdxImages(header(0x803, 2 ** 31, 28, 28), 'bomb'));
    expect(['IDX_TOO_LARGE', 'IDX_TRUNCATED']).toContain(err.code);
    expect(err.message).toMatch(/2147483648 images/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('a 16-byte file claiming the largest allowed size → IDX_TRUNCATED naming the sizes', () => {
    const err = datasetError(() => parseIdxImages(header(0x803, 10_000_000, 1024, 1024), 'big'));
    expect(err.code).toBe('IDX_TRUNCATED');
    expect(err.message).toBe('big: header says 10000000×1024×1024 images (10485760000000 bytes) but the file holds 0 bytes of data');
  });
});

describe('IDX truncation at every byte boundary', () => {
  it(`images: all ${smallFile.length} proper prefixes of a 3×4×4 file → IDX_TRUNCATED`, () => {
    for (let n = 0; n < smallFile.length; n++) {
      const err = datasetError(() => parseIdxImages(smallFile.slice(0, n), 'img'));
      expect(err.code, `prefix of ${n} bytes`).toBe('IDX_TRUNCATED');
    }
    expect(parseIdxImages(smallFile.slice(), 'img').count).toBe(3);
  });

  it(`labels: all ${smallLabels.length} proper prefixes of a 3-label file → IDX_TRUNCATED`, () => {
    for (let n = 0; n < smallLabels.length; n++) {
      const err = datasetError(() => parseIdxLabels(smallLabels.slice(0, n), 'lbl'));
      expect(err.code, `prefix of ${n} bytes`).toBe('IDX_TRUNCATED');
    }
  });
});
