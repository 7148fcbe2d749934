import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/engine/errors';
import { encodeIdxImages, encodeIdxLabels } from '../../src/engine/formats/idx';
import { defaultMnistDir, findMnistFiles, loadMnist } from '../../src/node/datasets';
import { readDataFile } from '../../src/node/files';
import { mulberry32 } from '../helpers/prng';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-data-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<DatasetError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetError);
  return e as DatasetError;
}

function makeSet(count: number, seed: number): { images: Uint8Array; labels: Uint8Array; pixels: Uint8Array; labelValues: Uint8Array } {
  const rng = mulberry32(seed);
  const pixels = Uint8Array.from({ length: count * 784 }, () => rng.byte());
  const labelValues = Uint8Array.from({ length: count }, () => rng.int(10));
  return {
    images: encodeIdxImages({ count, rows: 28, cols: 28, pixels }),
    labels: encodeIdxLabels(labelValues),
    pixels,
    labelValues,
  };
}

/** Writes a small MNIST folder: gzip train set with standard names, plain test set with dotted names. */
async function writeSmallMnist(folder: string): Promise<{ train: ReturnType<typeof makeSet>; test: ReturnType<typeof makeSet> }> {
  const train = makeSet(20, 1);
  const test = makeSet(10, 2);
  await writeFile(join(folder, 'train-images-idx3-ubyte.gz'), gzipSync(train.images));
  await writeFile(join(folder, 'train-labels-idx1-ubyte.gz'), gzipSync(train.labels));
  await writeFile(join(folder, 't10k-images.idx3-ubyte'), test.images);
  await writeFile(join(folder, 't10k-labels.idx1-ubyte'), test.labels);
  return { train, test };
}

describe('findMnistFiles', () => {
  it('accepts standard, dotted and gzip names, and prefers the plain file', async () => {
    await writeSmallMnist(dir);
    await writeFile(join(dir, 'train-images-idx3-ubyte'), 'plain');
    const files = await findMnistFiles(dir);
    expect(files).toEqual({
      trainImages: join(dir, 'train-images-idx3-ubyte'),
      trainLabels: join(dir, 'train-labels-idx1-ubyte.gz'),
      testImages: join(dir, 't10k-images.idx3-ubyte'),
      testLabels: join(dir, 't10k-labels.idx1-ubyte'),
    });
  });

  it('matches names whatever their case', async () => {
    for (const n of ['TRAIN-IMAGES-IDX3-UBYTE', 'train-labels.idx1-ubyte.GZ', 't10k-images-idx3-ubyte.gz', 'T10k-Labels-Idx1-Ubyte']) {
      await writeFile(join(dir, n), '');
    }
    const files = await findMnistFiles(dir);
    expect(files.trainLabels).toBe(join(dir, 'train-labels.idx1-ubyte.GZ'));
  });

  it('missing files → DATASET_NOT_FOUND naming each missing one and the folder', async () => {
    await writeFile(join(dir, 'train-images-idx3-ubyte'), '');
    await writeFile(join(dir, 't10k-labels-idx1-ubyte.gz'), '');
    await writeFile(join(dir, 'train-labels-idx3-ubyte'), ''); // wrong dimension digit: not a match
    const err = await rejection(findMnistFiles(dir));
    expect(err.code).toBe('DATASET_NOT_FOUND');
    expect(err.message).toBe(`dataset folder ${dir} is missing train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz]`);
  });

  it('missing folder → DATASET_NOT_FOUND naming the folder', async () => {
    const missing = join(dir, 'nope');
    const err = await rejection(findMnistFiles(missing));
    expect(err.code).toBe('DATASET_NOT_FOUND');
    expect(err.message).toContain(missing);
  });
});

describe('loadMnist on a small folder', () => {
  it('loads gzip and plain files, pairs them and fingerprints them', async () => {
    const { train, test } = await writeSmallMnist(dir);
    const data = await loadMnist(dir);
    expect(data.dir).toBe(dir);
    expect([data.train.count, data.train.rows, data.train.cols]).toEqual([20, 28, 28]);
    expect([data.test.count, data.test.rows, data.test.cols]).toEqual([10, 28, 28]);
    expect(data.train.pixels).toEqual(train.pixels);
    expect(data.train.labels).toEqual(train.labelValues);
    expect(data.test.pixels).toEqual(test.pixels);
    expect(data.test.labels).toEqual(test.labelValues);
    expect(data.fingerprint).toMatch(/^[0-9a-f]{16}$/);

    // Same decoded content, different packaging → same fingerprint; different content → different.
    const plain = await mkdtemp(join(tmpdir(), 'lenet-data-'));
    try {
      await writeFile(join(plain, 'train-images-idx3-ubyte'), train.images);
      await writeFile(join(plain, 'train-labels-idx1-ubyte'), train.labels);
      await writeFile(join(plain, 't10k-images-idx3-ubyte.gz'), gzipSync(test.images));
      await writeFile(join(plain, 't10k-labels-idx1-ubyte'), test.labels);
      expect((await loadMnist(plain)).fingerprint).toBe(data.fingerprint);
      const other = makeSet(10, 3);
      await writeFile(join(plain, 't10k-labels-idx1-ubyte'), other.labels);
      expect((await loadMnist(plain)).fingerprint).not.toBe(data.fingerprint);
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });

  it('image/label count mismatch → IDX_COUNT_MISMATCH naming both files', async () => {
    await writeSmallMnist(dir);
    await writeFile(join(dir, 't10k-labels.idx1-ubyte'), encodeIdxLabels(new Uint8Array(9)));
    const err = await rejection(loadMnist(dir));
    expect(err.code).toBe('IDX_COUNT_MISMATCH');
    expect(err.message).toContain('t10k-images.idx3-ubyte holds 10 images');
    expect(err.message).toContain('t10k-labels.idx1-ubyte holds 9 labels');
  });

  it('train and test of different sizes → IDX_BAD_DIMS', async () => {
    await writeSmallMnist(dir);
    await writeFile(join(dir, 't10k-images.idx3-ubyte'), encodeIdxImages({ count: 10, rows: 32, cols: 32, pixels: new Uint8Array(10 * 1024) }));
    const err = await rejection(loadMnist(dir));
    expect(err.code).toBe('IDX_BAD_DIMS');
    expect(err.message).toMatch(/28×28 images but .* holds 32×32/);
  });

  it('a labels file given gzip garbage → GZIP_CORRUPT naming the file', async () => {
    await writeSmallMnist(dir);
    const gz = gzipSync(encodeIdxLabels(new Uint8Array(20)));
    gz[gz.length - 6] ^= 0xff; // corrupts the CRC
    await writeFile(join(dir, 'train-labels-idx1-ubyte.gz'), gz);
    const err = await rejection(loadMnist(dir));
    expect(err.code).toBe('GZIP_CORRUPT');
    expect(err.message).toContain(join(dir, 'train-labels-idx1-ubyte.gz'));
  });

  it('a gzip bomb inflating past the default 256 MiB cap → GZIP_TOO_LARGE', async () => {
    // 257 gzip members of 1 MiB of zeros each: a 270 kB file that inflates to 257 MiB.
    const member = gzipSync(new Uint8Array(1 << 20), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 257 }, () => member));
    expect(bomb.length).toBeLessThan(1 << 20);
    await writeSmallMnist(dir);
    await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), bomb);
    const err = await rejection(loadMnist(dir));
    expect(err.code).toBe('GZIP_TOO_LARGE');
    expect(err.message).toBe(`${join(dir, 'train-images-idx3-ubyte.gz')}: the gzip data inflates to more than the cap of 256 MiB`);
  });
});

describe('readDataFile', () => {
  it('returns plain files as they are and inflates gzip ones', async () => {
    const bytes = Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 1, 5);
    await writeFile(join(dir, 'a'), bytes);
    await writeFile(join(dir, 'a.gz'), gzipSync(bytes));
    expect(await readDataFile(join(dir, 'a'))).toEqual(bytes);
    expect(await readDataFile(join(dir, 'a.gz'))).toEqual(bytes);
  });

  it('a gzip file inflating past a lowered cap → GZIP_TOO_LARGE naming the file and cap', async () => {
    const path = join(dir, 'bomb.gz');
    await writeFile(path, gzipSync(new Uint8Array(3 << 20)));
    const err = await rejection(readDataFile(path, { maxBytes: 2 << 20 }));
    expect(err.code).toBe('GZIP_TOO_LARGE');
    expect(err.message).toBe(`${path}: the gzip data inflates to more than the cap of 2 MiB`);
    expect(await readDataFile(path, { maxBytes: 3 << 20 })).toHaveLength(3 << 20);
  });

  it('a raw file above the cap is refused before it is read', async () => {
    const path = join(dir, 'big');
    await writeFile(path, new Uint8Array(1025));
    const err = await rejection(readDataFile(path, { maxBytes: 1024 }));
    expect(err.code).toBe('IDX_TOO_LARGE');
    expect(err.message).toBe(`${path}: the file is 1025 bytes, above the cap of 1024 bytes`);
  });

  it('truncated gzip → GZIP_CORRUPT', async () => {
    const path = join(dir, 'cut.gz');
    const gz = gzipSync(new Uint8Array(5000).fill(7));
    await writeFile(path, gz.subarray(0, gz.length - 10));
    const err = await rejection(readDataFile(path));
    expect(err.code).toBe('GZIP_CORRUPT');
    expect(err.message).toMatch(/cut\.gz: the gzip data is corrupt: /);
  });

  it('a missing file → DATASET_NOT_FOUND naming the path; a folder → DATASET_UNREADABLE', async () => {
    const missing = join(dir, 'missing-idx3-ubyte');
    const err = await rejection(readDataFile(missing));
    expect(err.code).toBe('DATASET_NOT_FOUND');
    expect(err.message).toBe(`${missing}: no such file`);
    await mkdir(join(dir, 'sub'));
    expect((await rejection(readDataFile(join(dir, 'sub')))).code).toBe('DATASET_UNREADABLE');
  });
});

describe('the bundled MNIST', () => {
  it('loads 60000 training and 10000 test images of 28×28 with the known first labels', async () => {
    const data = await loadMnist();
    expect(data.dir).toBe(defaultMnistDir());
    expect([data.train.count, data.train.rows, data.train.cols]).toEqual([60000, 28, 28]);
    expect([data.test.count, data.test.rows, data.test.cols]).toEqual([10000, 28, 28]);
    expect(data.train.labels).toHaveLength(60000);
    expect(data.train.pixels).toHaveLength(60000 * 784);
    expect(data.test.labels[0]).toBe(7);
    expect(data.test.labels[1]).toBe(2);
    expect(data.train.labels[0]).toBe(5);
    expect(data.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });
});
