// Hostile model files (.lenet): specs that parse but would cost hours or gigabytes to build,
// values no trained model holds, names that would reach a terminal or an ONNX file raw, and a
// file that is no model at all.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeModelFile } from '../../../src/engine/formats/modelfile';
import { encodeSafetensors, type SafeTensorInput } from '../../../src/engine/formats/safetensors';
import { jsKernels } from '../../../src/engine/kernels/js/backend';
import { Model } from '../../../src/engine/model';
import { PRESETS } from '../../../src/engine/presets';
import type { ModelSpec } from '../../../src/engine/spec';
import type { HostileCase } from '../case';

/** A native .lenet of `spec` as given (unchecked), with these tensors and this preset name. */
function lenet(spec: unknown, tensors: SafeTensorInput[] = [], preset = ''): Uint8Array {
  return encodeSafetensors(tensors, { format: 'lenet-studio-model/1', preset, spec: JSON.stringify(spec) });
}

function presetTensors(name: string, seed = 1): SafeTensorInput[] {
  return new Model(PRESETS[name].spec, jsKernels).init(seed).namedTensors();
}

/** Overwrites the value at `index` of tensor `name` in an encoded file (the encoder writes no NaN). */
function patchValue(bytes: Uint8Array, name: string, index: number, value: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, { data_offsets: [number, number] }>;
  view.setFloat32(8 + headerLen + header[name].data_offsets[0] + 4 * index, value, true);
  return bytes;
}

const bomb = (channels: number, filters: number): ModelSpec => ({
  input: [1, 1024, 1024],
  layers: [{ type: 'conv2d', filters: channels, kernel: 32, stride: 32 }, { type: 'conv2d', filters, kernel: 32 }, { type: 'flatten' }],
  loss: 'mse',
});

async function put(dir: string, name: string, bytes: Uint8Array | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

export const cases: HostileCase[] = [
  {
    name: 'spec bomb (408 bytes): 1024 filters 32×32 on a 1024×1024 input, then 1024 filters 32×32',
    async prepare(dir) {
      return { cli: 'evaluate', args: [await put(dir, 'bomb.lenet', lenet(bomb(1024, 1024)))] };
    },
  },
  {
    name: 'spec bomb (352 bytes): 64 channels into 512 filters 32×32',
    async prepare(dir) {
      return { cli: 'export', args: [await put(dir, 'bomb64.lenet', lenet(bomb(64, 512))), '--out', join(dir, 'bomb64.onnx')] };
    },
  },
  {
    name: 'parameter bomb inside the input cap: 1024 filters 32×32 stride 32 on 256×256, then 1024 filters 8×8 (67 M weights)',
    async prepare(dir) {
      const spec = {
        input: [1, 256, 256],
        layers: [{ type: 'conv2d', filters: 1024, kernel: 32, stride: 32 }, { type: 'conv2d', filters: 1024, kernel: 8 }, { type: 'flatten' }],
        loss: 'mse',
      };
      return { cli: 'evaluate', args: [await put(dir, 'params.lenet', lenet(spec))] };
    },
  },
  {
    name: 'plan-heavy valid model (1.4 MB): input 1×8×8, conv 64 1×1, conv 512 1×1, dense 10',
    async prepare(dir) {
      const spec: ModelSpec = {
        input: [1, 8, 8],
        layers: [{ type: 'conv2d', filters: 64, kernel: 1 }, { type: 'conv2d', filters: 512, kernel: 1 }, { type: 'flatten' }, { type: 'dense', units: 10 }],
        loss: 'mse',
      };
      return { cli: 'evaluate', args: [await put(dir, 'heavy.lenet', encodeModelFile(new Model(spec, jsKernels).init(1)))] };
    },
  },
  {
    name: 'activation-heavy MNIST-sized model: 1024 filters 1×1 on a 28×28 input (3 MiB per image)',
    async prepare(dir) {
      const spec = {
        input: [1, 28, 28],
        layers: [{ type: 'conv2d', filters: 1024, kernel: 1 }, { type: 'flatten' }, { type: 'dense', units: 10 }],
        loss: 'mse',
      };
      return { cli: 'evaluate', args: [await put(dir, 'wide.lenet', lenet(spec))] };
    },
  },
  {
    name: 'negative batch-norm running_var',
    async prepare(dir) {
      const tensors = presetTensors('lenet5-relu-ce-bn').map((t) => {
        if (t.name !== 'bn2.running_var') return t;
        const data = t.data.slice();
        data[3] = -0.5;
        return { ...t, data };
      });
      return { cli: 'evaluate', args: [await put(dir, 'negvar.lenet', lenet(PRESETS['lenet5-relu-ce-bn'].spec, tensors, 'lenet5-relu-ce-bn'))] };
    },
  },
  {
    name: 'NaN weight',
    async prepare(dir) {
      const bytes = patchValue(lenet(PRESETS['lenet5-relu-ce'].spec, presetTensors('lenet5-relu-ce'), 'lenet5-relu-ce'), 'fc1.weight', 7, Number.NaN);
      return { cli: 'export', args: [await put(dir, 'nan.lenet', bytes), '--out', join(dir, 'nan.onnx')] };
    },
  },
  {
    name: 'preset name with terminal escapes (title, clear screen, bidi override)',
    async prepare(dir) {
      const evil = 'lenet5\u001b]0;pwned\u0007\u001b[2J\u202e-relu-ce';
      const file = await put(dir, 'escapes.lenet', lenet(PRESETS['lenet5-relu-ce'].spec, presetTensors('lenet5-relu-ce'), evil));
      return { cli: 'export', args: [file, '--out', join(dir, 'escapes.onnx')] };
    },
  },
  {
    name: '10 MB preset name',
    async prepare(dir) {
      const file = await put(dir, 'longname.lenet', lenet(PRESETS['lenet5-relu-ce'].spec, presetTensors('lenet5-relu-ce'), 'x'.repeat(10_000_000)));
      return { cli: 'export', args: [file, '--out', join(dir, 'longname.onnx')] };
    },
  },
  {
    name: 'a text file named .lenet',
    async prepare(dir) {
      return { cli: 'evaluate', args: [await put(dir, 'notes.lenet', 'Meeting notes\nThe model is in the other folder.\n')] };
    },
  },
  {
    name: 'train --init with a model of another preset (tanh weights into lenet5-relu-ce)',
    async prepare(dir) {
      const file = await put(dir, 'tanh.lenet', lenet(PRESETS['lenet5-tanh-mse'].spec, presetTensors('lenet5-tanh-mse'), 'lenet5-tanh-mse'));
      return { cli: 'train', args: ['--preset', 'lenet5-relu-ce', '--init', file, '--epochs', '1', '--limit', '100'] };
    },
  },
];
