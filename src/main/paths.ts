// Where the main process finds its files, as a pure function of Electron's few facts (packaged or
// not, the resources folder, the app folder, the folder of the bundled main script), so that the
// packaged-layout test (test/build/package-layout.test.ts) checks an app.asar against the very
// paths main computes.

import { join } from 'node:path';
import { relaxedWasmPath } from '../node/load-kernels';

export interface ResourceFacts {
  packaged: boolean;
  /** process.resourcesPath: electron-builder's extraResources land here. */
  resourcesPath: string;
  /** app.getAppPath(): the project folder in development, …/resources/app.asar when packaged. */
  appPath: string;
  /** The folder of the running main bundle (out/main). */
  mainDir: string;
}

export interface ResourcePaths {
  /** The four gzip IDX files of the embedded MNIST. */
  embeddedDatasetDir: string;
  /** The plain SIMD kernels; the relaxed-SIMD build sits next to it. */
  wasmPath: string;
  relaxedWasmPath: string;
  /** The bundled data-parallel shard worker. */
  shardWorker: string;
  preload: string;
  rendererFile: string;
  /** The window icon (Linux and Windows show it; macOS uses the bundle's). */
  icon: string;
}

/** The embedded MNIST files inside embeddedDatasetDir. */
export const EMBEDDED_MNIST_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

export function resourcePaths(f: ResourceFacts): ResourcePaths {
  const res = f.packaged ? f.resourcesPath : join(f.appPath, 'resources');
  const wasmPath = f.packaged ? join(f.resourcesPath, 'kernels.wasm') : join(f.appPath, 'build', 'wasm', 'kernels.wasm');
  return {
    embeddedDatasetDir: join(res, 'mnist'),
    wasmPath,
    relaxedWasmPath: relaxedWasmPath(wasmPath),
    shardWorker: join(f.mainDir, 'shard-worker.js'),
    preload: join(f.mainDir, '../preload/index.cjs'),
    rendererFile: join(f.mainDir, '../renderer/index.html'),
    icon: f.packaged ? join(f.resourcesPath, 'icon.png') : join(f.appPath, 'resources', 'icons', '256x256.png'),
  };
}
