// Models as the studio reads and receives them: a .lenet (or a foreign safetensors state_dict)
// from disk within a size cap, and a ModelPayload from the renderer turned back into a Model.

import { readFile, stat } from 'node:fs/promises';
import { ModelFileError } from '../../engine/errors';
import { decodeModelFile, importStateDict, type LoadedModel } from '../../engine/formats/modelfile';
import { jsKernels } from '../../engine/kernels/js/backend';
import { Model } from '../../engine/model';
import { PRESETS } from '../../engine/presets';
import type { ModelPayload } from '../../common/records';
import { StudioError } from './errors';

/** Models are ~250 kB; 256 MiB is far beyond any real one and keeps a hostile file from exhausting memory. */
export const MAX_MODEL_BYTES = 256 * 1024 * 1024;

/**
 * Reads a model file. A safetensors file without our metadata (a PyTorch state_dict) is imported
 * into the preset `importAs` names, or the first whose tensors fit. `missing` runs when the file
 * does not exist (the recent list drops it).
 */
export async function readModelFile(path: string, importAs: string | undefined, missing: () => Promise<void>): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ModelFileError('MODEL_TRUNCATED', `${path}: not a file`);
    if (st.size > MAX_MODEL_BYTES) throw new StudioError('TOO_LARGE', `${path}: ${st.size} bytes is too large for a model file`);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof ModelFileError || e instanceof StudioError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      await missing();
      throw new ModelFileError('MODEL_TRUNCATED', `${path}: the file does not exist (any more)`);
    }
    throw new ModelFileError('MODEL_TRUNCATED', `${path}: could not read the file: ${(e as Error).message}`);
  }
  try {
    return decodeModelFile(bytes, path);
  } catch (e) {
    if (!(e instanceof ModelFileError && e.code === 'MODEL_FOREIGN' && /without LeNet Studio metadata/.test(e.message))) throw e;
    return importStateDict(bytes, path, Object.values(PRESETS), importAs);
  }
}

/**
 * The model a payload describes; StudioError BAD_MODEL when its spec or weights don't fit. Only
 * saved, exported or checked here, never run: built on the TypeScript kernels, whose ordinary
 * arrays the garbage collector reclaims.
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

export function toPayload(loaded: LoadedModel, source: ModelPayload['source']): ModelPayload {
  const { params, buffers } = loaded.model.snapshot();
  const p: ModelPayload = { spec: loaded.model.spec, params, buffers, source };
  if (loaded.preset !== undefined) p.preset = loaded.preset;
  return p;
}
