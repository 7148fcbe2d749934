// Models as the studio reads and receives them: a .lenet (or a foreign safetensors state_dict)
// from disk within a size cap, a large one decoded on a worker thread so the studio's event loop
// stays free, and a ModelPayload from the renderer turned back into a Model.
//
// What a hostile file can cost is bounded before anything is built (engine/spec.ts SPEC_CAPS,
// checked by decodeModelFile before the model and its conv plans exist); the worker keeps even
// that bounded work — reading up to MAX_MODEL_BYTES, parsing a header of up to 16 MiB, copying
// and checking every value — off the loop that answers the window.

import { temperatureOf } from '../../engine/calibration';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EngineError, ModelFileError, type EngineErrorCode } from '../../engine/errors';
import { decodeModelFile, encodeModelFile, importStateDict, MAX_MODEL_FILE_BYTES, type LoadedModel, type ModelFileMeta } from '../../engine/formats/modelfile';
import { jsKernels } from '../../engine/kernels/js/backend';
import { Model } from '../../engine/model';
import { PRESETS } from '../../engine/presets';
import { csvModelInfo } from '../../engine/tabular';
import type { ModelSpec } from '../../engine/spec';
import type { ModelPayload } from '../../common/records';
import { exportOnnx } from '../onnx';
import { StudioError } from './errors';

/** The largest model file (engine/formats/modelfile.ts): anything larger is refused before it is read. */
export const MAX_MODEL_BYTES = MAX_MODEL_FILE_BYTES;

/** A model file decoded to what the window needs: its spec, values and preset name. */
export interface DecodedModel {
  spec: ModelSpec;
  params: Float32Array;
  buffers: Float32Array;
  preset?: string;
  /** The file is a LeNet Studio model (not a foreign state_dict imported into a preset). */
  native: boolean;
  /** The file's other metadata (training settings, metrics, dataset, extras such as a table's columns), kept for saving it again. */
  meta: Omit<ModelFileMeta, 'preset'>;
}

export interface ModelWorkerRequest {
  path: string;
  importAs: string | undefined;
}

/**
 * A model from the window to check and write as bytes: a `.lenet` file (with its metadata), an
 * ONNX file, or nothing (`check`: only refuse what no model holds).
 */
export interface EncodeRequest {
  kind: 'encode';
  format: 'lenet' | 'onnx' | 'check';
  spec: ModelSpec;
  params: Float32Array;
  buffers: Float32Array;
  meta?: ModelFileMeta;
  /** ONNX only: the table metadata (x-csv) of a table model, so the graph standardises raw rows. */
  table?: unknown;
}

/** An error as it crosses from the worker: Error subclasses do not survive structured cloning. */
export interface WireError {
  kind: 'model' | 'studio' | 'missing' | 'other';
  code: string;
  message: string;
  detail?: string;
}

export type ModelWorkerReply = { ok: true; model: DecodedModel } | { ok: true; bytes: Uint8Array } | { ok: false; error: WireError };

class MissingFileError extends Error {}

export function wireError(e: unknown): WireError {
  if (e instanceof MissingFileError) return { kind: 'missing', code: 'ENOENT', message: e.message };
  if (e instanceof EngineError) return { kind: 'model', code: e.code, message: e.message, ...(e.detail !== undefined ? { detail: e.detail } : {}) };
  if (e instanceof StudioError) return { kind: 'studio', code: e.code, message: e.message };
  return { kind: 'other', code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

function fromWire(w: WireError): Error {
  if (w.kind === 'model') return new ModelFileError(w.code as EngineErrorCode, w.message, w.detail);
  if (w.kind === 'studio') return new StudioError(w.code as StudioError['code'], w.message);
  if (w.kind === 'missing') return new MissingFileError(w.message);
  return new Error(w.message);
}

/**
 * Reads and decodes a model file where it runs (the worker, or the fallback). A missing file
 * throws MissingFileError so the caller can drop it from the recent list.
 */
export async function decodeModelFileAt(path: string, importAs: string | undefined): Promise<DecodedModel> {
  let bytes: Uint8Array;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ModelFileError('MODEL_TRUNCATED', `${path}: not a file`);
    if (st.size > MAX_MODEL_BYTES) {
      throw new StudioError(
        'TOO_LARGE',
        `${path}: ${st.size} bytes is too large for a model file (the largest model that fits the caps is ${MAX_MODEL_BYTES} bytes)`,
      );
    }
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof ModelFileError || e instanceof StudioError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MissingFileError(`${path}: the file does not exist (any more)`);
    throw new ModelFileError('MODEL_TRUNCATED', `${path}: could not read the file: ${(e as Error).message}`);
  }
  let loaded: LoadedModel;
  try {
    loaded = decodeModelFile(bytes, path);
  } catch (e) {
    if (!(e instanceof ModelFileError && e.code === 'MODEL_FOREIGN' && /without LeNet Studio metadata/.test(e.message))) throw e;
    loaded = importStateDict(bytes, path, Object.values(PRESETS), importAs);
  }
  const { params, buffers } = loaded.model.snapshot();
  const meta: DecodedModel['meta'] = { training: loaded.training, metrics: loaded.metrics, dataset: loaded.dataset, extra: loaded.extra };
  const m: DecodedModel = { spec: loaded.model.spec, params, buffers, native: loaded.native, meta };
  if (loaded.preset !== undefined) m.preset = loaded.preset;
  return m;
}

/**
 * Where the worker starts: the .mjs that boots the TypeScript source under tsx, or, in the built
 * app, the pre-built worker next to main's bundle (electron.vite.config.ts builds it). Null when
 * neither exists (then the file is decoded on the calling thread).
 */
let foundWorker: URL | null | undefined;
function workerUrl(): URL | null {
  // Looked up once: the bundle does not move while the app runs (no sync stat per request).
  if (foundWorker !== undefined) return foundWorker;
  foundWorker = locateWorker();
  return foundWorker;
}

function locateWorker(): URL | null {
  const here = fileURLToPath(import.meta.url);
  const candidates = here.endsWith('.ts')
    ? [join(dirname(here), './model-worker.mjs')]
    : [join(dirname(here), './model-worker.js'), join(dirname(here), '../model-worker.js')];
  const found = candidates.find((p) => existsSync(p));
  return found ? pathToFileURL(found) : null;
}

/**
 * Runs one request on a worker thread; null when no worker could start (the caller does the work
 * in place). A worker that fails or dies leaves the work to `fallback` on this thread, whose caps
 * still hold.
 */
function onWorker<T>(
  req: ModelWorkerRequest | EncodeRequest,
  take: (reply: ModelWorkerReply & { ok: true }) => T,
  fallback: () => Promise<T>,
  stopped: (code: number) => Error,
): Promise<T> | null {
  const url = workerUrl();
  if (!url) return null;
  let worker: Worker;
  try {
    worker = new Worker(url);
  } catch {
    return null;
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      f();
    };
    worker.once('message', (reply: ModelWorkerReply) =>
      settle(() => {
        try {
          if (reply.ok) resolve(take(reply));
          else reject(fromWire(reply.error));
        } catch (e) {
          reject(e);
        }
      }),
    );
    worker.once('error', () => settle(() => fallback().then(resolve, reject)));
    worker.once('exit', (code) => settle(() => reject(stopped(code))));
    worker.postMessage(req);
  });
}

function decodeOnWorker(req: ModelWorkerRequest): Promise<DecodedModel> | null {
  const take = (r: ModelWorkerReply & { ok: true }): DecodedModel => {
    if (!('model' in r)) throw new Error('internal error: the model worker sent no model');
    return r.model;
  };
  return onWorker(
    req,
    take,
    () => decodeModelFileAt(req.path, req.importAs),
    (code) => new ModelFileError('MODEL_TRUNCATED', `${req.path}: the model reader stopped (exit code ${code})`),
  );
}

/**
 * Files up to this size are decoded where they are asked for: a model's tensors must all be in
 * its file before anything is built, so a small file builds a small model (LeNet-5 is 250 kB, the
 * MLP 1.9 MB) in milliseconds, quicker than a worker starts. Larger files go to a worker.
 */
export const WORKER_ABOVE_BYTES = 4 * 1024 * 1024;

/**
 * Reads a model file. A safetensors file without our metadata (a PyTorch state_dict) is imported
 * into the preset `importAs` names, or the first whose tensors fit. `missing` runs when the file
 * does not exist (the recent list drops it). A file above `workerAbove` bytes is read and decoded
 * on a worker thread.
 */
export async function readModelFile(
  path: string,
  importAs: string | undefined,
  missing: () => Promise<void>,
  workerAbove = WORKER_ABOVE_BYTES,
): Promise<DecodedModel> {
  const req: ModelWorkerRequest = { path, importAs };
  try {
    const size = await stat(path).then(
      (st) => st.size,
      () => 0, // decodeModelFileAt says what is wrong with it
    );
    return await ((size > workerAbove ? decodeOnWorker(req) : null) ?? decodeModelFileAt(path, importAs));
  } catch (e) {
    if (!(e instanceof MissingFileError)) throw e;
    await missing();
    throw new ModelFileError('MODEL_TRUNCATED', e.message);
  }
}

/**
 * The model a payload describes; StudioError BAD_MODEL when its spec or values don't fit (the
 * spec's caps are checked before anything is built). Only saved, exported or checked here, never
 * run: built on the TypeScript kernels, whose ordinary arrays the garbage collector reclaims.
 */
export function buildModel(m: ModelPayload): Model {
  let model: Model;
  try {
    model = new Model(m.spec, jsKernels);
    model.restore({ params: m.params, buffers: m.buffers });
  } catch (e) {
    throw new StudioError('BAD_MODEL', `the model cannot be used: ${(e as Error).message}`);
  }
  return model;
}

/** Checks a model from the window and encodes it as the request asks (StudioError BAD_MODEL when no model holds these values). */
export function encodePayload(req: EncodeRequest): Uint8Array {
  const model = buildModel({ spec: req.spec, params: req.params, buffers: req.buffers, source: { kind: 'file', path: '' } });
  if (req.format === 'lenet') return encodeModelFile(model, req.meta);
  if (req.format === 'onnx') {
    const info = csvModelInfo(req.table, model, 'the model');
    const table = info && { features: info.features, classNames: info.classNames, ...info.standardization };
    const temperature = temperatureOf(req.meta?.extra?.calibration, 'the model');
    return exportOnnx(model, { ...(req.meta?.preset ? { preset: req.meta.preset } : {}), ...(table ? { table } : {}), temperature });
  }
  return new Uint8Array(0);
}

/**
 * Payloads up to this many values are checked and encoded where they are asked for (the largest
 * preset, the MLP, holds 0.47 M; a LeNet-5 62 k): that takes milliseconds. Larger ones, which
 * only a hand-made or hostile payload reaches (up to 16 M values cross IPC), go to a worker.
 */
export const ENCODE_ON_WORKER_ABOVE_VALUES = 1 << 20;

/** encodePayload, on a worker thread when the payload is large, so the studio's event loop stays free. */
export async function encodeModel(req: EncodeRequest, workerAbove = ENCODE_ON_WORKER_ABOVE_VALUES): Promise<Uint8Array> {
  const local = async (): Promise<Uint8Array> => encodePayload(req);
  if (req.params.length + req.buffers.length <= workerAbove) return local();
  // Copies go to the worker: the payload stays the caller's.
  const copy: EncodeRequest = { ...req, params: req.params.slice(), buffers: req.buffers.slice() };
  const take = (r: ModelWorkerReply & { ok: true }): Uint8Array => {
    if (!('bytes' in r)) throw new Error('internal error: the model worker sent no bytes');
    return r.bytes;
  };
  const stopped = (code: number): Error => new StudioError('BAD_MODEL', `the model could not be checked: its worker stopped (exit code ${code})`);
  return (await onWorker(copy, take, local, stopped)) ?? local();
}

export function toPayload(loaded: LoadedModel | DecodedModel, source: ModelPayload['source']): ModelPayload {
  const { spec, params, buffers } = 'model' in loaded ? { spec: loaded.model.spec, ...loaded.model.snapshot() } : loaded;
  const p: ModelPayload = { spec, params, buffers, source };
  if (loaded.preset !== undefined) p.preset = loaded.preset;
  const calibration = 'model' in loaded ? loaded.extra.calibration : loaded.meta.extra?.calibration;
  if (calibration !== undefined) p.temperature = temperatureOf(calibration, 'the model');
  return p;
}
