// Model files that parse but must be refused: specs that would cost minutes or gigabytes to
// build, values no trained model holds, names that would reach a terminal raw, and files that are
// no model at all. Each refusal is a typed error naming the file, and the tests check the ORDER of
// the work: a spy in place of the kernels shows that nothing (arena, plans, scratch) was built.

import { describe, expect, it } from 'vitest';
import { EngineError, ModelFileError, SpecError } from '../../../src/engine/errors';
import { cleanMetaString, decodeModelFile, encodeModelFile, MAX_MODEL_FILE_BYTES, MAX_PRESET_NAME } from '../../../src/engine/formats/modelfile';
import { encodeSafetensors, type SafeTensorInput } from '../../../src/engine/formats/safetensors';
import { jsKernels } from '../../../src/engine/kernels/js/backend';
import type { Kernels } from '../../../src/engine/kernels/types';
import { Model } from '../../../src/engine/model';
import { PRESETS } from '../../../src/engine/presets';
import { SPEC_CAPS, specDifference, validateSpec, type ModelSpec } from '../../../src/engine/spec';

/** Kernels that throw as soon as anything asks for memory or a conv plan's scratch. */
function untouchable(): { kernels: Kernels; touched: string[] } {
  const touched: string[] = [];
  const kernels: Kernels = {
    ...jsKernels,
    arena() {
      touched.push('arena');
      throw new Error('the model was built');
    },
    convScratchSize() {
      touched.push('convScratchSize');
      throw new Error('a conv plan was built');
    },
  };
  return { kernels, touched };
}

/** A native .lenet holding `spec` (as given, unchecked) and these tensors. */
function lenetFile(spec: unknown, tensors: SafeTensorInput[] = [], preset = ''): Uint8Array {
  return encodeSafetensors(tensors, { format: 'lenet-studio-model/1', preset, spec: JSON.stringify(spec) });
}

function refusal(f: () => unknown): ModelFileError {
  try {
    f();
  } catch (e) {
    if (e instanceof ModelFileError) return e;
    throw e;
  }
  throw new Error('expected a ModelFileError');
}

/** The 408-byte bomb: valid, but ~1G weights and hours of plan building. */
const BOMB: ModelSpec = {
  input: [1, 1024, 1024],
  layers: [{ type: 'conv2d', filters: 1024, kernel: 32, stride: 32 }, { type: 'conv2d', filters: 1024, kernel: 32 }, { type: 'flatten' }],
  loss: 'mse',
};
/** Its 352-byte sibling: 64 channels into 512 filters (26.5 s of plan building before). */
const SMALL_BOMB: ModelSpec = {
  input: [1, 1024, 1024],
  layers: [{ type: 'conv2d', filters: 64, kernel: 32, stride: 32 }, { type: 'conv2d', filters: 512, kernel: 32 }, { type: 'flatten' }],
  loss: 'mse',
};

/** Within the input and activation caps: 1024 filters 32×32 stride 32 on 256×256, then 1024 filters 8×8 (67 M weights). */
const PARAM_BOMB: ModelSpec = {
  input: [1, 256, 256],
  layers: [{ type: 'conv2d', filters: 1024, kernel: 32, stride: 32 }, { type: 'conv2d', filters: 1024, kernel: 8 }, { type: 'flatten' }],
  loss: 'mse',
};

describe('spec bombs are refused from the spec alone, before anything is built', () => {
  it.each([
    ['1024 filters 32×32 on a 1024×1024 input', BOMB, 'input 1×1024×1024 is above the cap of 262144 values per image'],
    ['64 channels into 512 filters 32×32', SMALL_BOMB, 'input 1×1024×1024 is above the cap of 262144 values per image'],
    ['1024 filters 8×8 on 1024 channels of 8×8', PARAM_BOMB, "layers[1] (conv2d) brings the network's parameter count to 68159488, above the cap of 16777216"],
  ])('%s: a header error naming the cap; no arena, no plan', (_what, spec, why) => {
    const file = lenetFile(spec);
    expect(file.length).toBeLessThan(512);
    const spy = untouchable();
    const e = refusal(() => decodeModelFile(file, 'bomb.lenet', undefined, spy.kernels));
    expect(e.code).toBe('MODEL_BAD_HEADER');
    expect(e.message).toBe(`bomb.lenet: model spec: ${why}`);
    expect(spy.touched).toEqual([]);
  });

  it('new Model refuses them too, before it asks its kernels for memory', () => {
    const spy = untouchable();
    expect(() => new Model(BOMB, spy.kernels)).toThrow(SpecError);
    expect(() => new Model(PARAM_BOMB, spy.kernels)).toThrow(SpecError);
    expect(spy.touched).toEqual([]);
  });

  it('the spec is checked before the tensors: a bomb with a NaN tensor is refused for its spec', () => {
    const file = lenetFile(BOMB, [{ name: 'conv1.bias', shape: [4], data: new Float32Array(4) }]);
    new DataView(file.buffer).setFloat32(file.length - 8, Number.NaN, true); // the encoder writes no NaN
    const e = refusal(() => decodeModelFile(file, 'bomb.lenet'));
    expect(e.code).toBe('MODEL_BAD_HEADER');
    expect(e.message).toContain('above the cap');
  });

  it('tensor names and shapes are checked before the model is built', () => {
    const spec = PRESETS['lenet5-relu-ce'].spec;
    const model = new Model(spec, jsKernels).init(1);
    const tensors = model.namedTensors().map((t) => (t.name === 'fc1.weight' ? { ...t, shape: [400, 120] } : t));
    const spy = untouchable();
    const e = refusal(() => decodeModelFile(lenetFile(spec, tensors), 'm.lenet', undefined, spy.kernels));
    expect(e.message).toBe('m.lenet: tensor fc1.weight has shape 400×120, the model needs 120×400');
    expect(spy.touched).toEqual([]);
  });
});

describe('SPEC_CAPS', () => {
  const head = (input: [number, number, number], layers: ModelSpec['layers']): ModelSpec => ({
    input,
    layers: [...layers, { type: 'flatten' }, { type: 'dense', units: 10 }],
    loss: 'mse',
  });
  it.each<[keyof typeof SPEC_CAPS, ModelSpec]>([
    ['parameters', { input: [1, 32, 32], layers: [{ type: 'flatten' }, { type: 'dense', units: 16384 }], loss: 'mse' }],
    ['activations', head([1, 1024, 1024], [{ type: 'pool2d', mode: 'max', size: 2 }])],
    ['macs', head([64, 24, 24], [{ type: 'conv2d', filters: 128, kernel: 16 }])],
    ['convColumns', head([64, 48, 48], [{ type: 'conv2d', filters: 1, kernel: 8 }])],
    ['activations', head([1, 28, 28], [{ type: 'conv2d', filters: 1024, kernel: 1 }])],
  ])('%s: a spec above the cap is a SpecError that names it', (cap, spec) => {
    expect(() => validateSpec(spec)).toThrow(SpecError);
    expect(() => validateSpec(spec)).toThrow(`above the cap of ${SPEC_CAPS[cap]}`);
  });

  it('planWork: connection tables whose pairing work passes the cap', () => {
    const table = (): number[][] => Array.from({ length: 1024 }, (_, c) => Array.from({ length: 1024 }, (_, o) => ((c + o) % 2 === 0 ? 1 : 0)));
    const tabled = (n: number): ModelSpec =>
      head(
        [64, 1, 1],
        [
          { type: 'conv2d', filters: 1024, kernel: 1 },
          ...Array.from({ length: n }, () => ({ type: 'conv2d' as const, filters: 1024, kernel: 1, table: table() })),
        ],
      );
    expect(() => validateSpec(tabled(1))).not.toThrow(); // 1024²·32 = the cap itself
    expect(() => validateSpec(tabled(2))).toThrow(`connection-table pairing work to ${2 * 2 ** 25}, above the cap of ${SPEC_CAPS.planWork}`);
  });

  it('every preset is far below every cap', () => {
    for (const p of Object.values(PRESETS)) expect(() => validateSpec(p.spec), p.name).not.toThrow();
  });
});

describe('a complete, plan-heavy model loads quickly', () => {
  it('input 1×8×8, conv 64 1×1, conv 512 1×1, dense 10 (1.4 MB): accepted, its plans built in well under the timeout', () => {
    const spec: ModelSpec = {
      input: [1, 8, 8],
      layers: [{ type: 'conv2d', filters: 64, kernel: 1 }, { type: 'conv2d', filters: 512, kernel: 1 }, { type: 'flatten' }, { type: 'dense', units: 10 }],
      loss: 'mse',
    };
    const file = encodeModelFile(new Model(spec, jsKernels).init(3));
    expect(file.length).toBeGreaterThan(1_300_000);
    const loaded = decodeModelFile(file, 'heavy.lenet');
    expect(loaded.model.inShape).toEqual([1, 8, 8]);
  }, 10_000);
});

describe('values no trained model holds', () => {
  const spec = PRESETS['lenet5-relu-ce-bn'].spec;
  const withValue = (name: string, index: number, value: number): SafeTensorInput[] =>
    new Model(spec, jsKernels)
      .init(2)
      .namedTensors()
      .map((t) => {
        if (t.name !== name) return t;
        const data = t.data.slice();
        data[index] = value;
        return { ...t, data };
      });

  it('a negative batch-norm running_var is refused, naming the tensor', () => {
    // encodeSafetensors writes any finite value: the file is well-formed, only the variance is wrong.
    const file = lenetFile(spec, withValue('bn2.running_var', 3, -0.5));
    const e = refusal(() => decodeModelFile(file, 'negvar.lenet'));
    expect(e.code).toBe('MODEL_BAD_VALUE');
    expect(e.message).toBe('negvar.lenet: tensor bn2.running_var holds the negative variance -0.5 at index 3');
  });

  it('a NaN weight is refused, naming the tensor', () => {
    const bytes = lenetFile(spec, withValue('fc1.weight', 7, 1.5));
    // Patch the 1.5 into a NaN in place: the encoder refuses to write one.
    const view = new DataView(bytes.buffer);
    let patched = 0;
    for (let i = 8; i + 4 <= bytes.length; i += 4) {
      if (view.getFloat32(i, true) === 1.5) {
        view.setFloat32(i, Number.NaN, true);
        patched++;
      }
    }
    expect(patched).toBe(1);
    const e = refusal(() => decodeModelFile(bytes, 'nan.lenet'));
    expect(e.code).toBe('MODEL_NOT_FINITE');
    expect(e.message).toBe('nan.lenet: tensor fc1.weight holds NaN at index 7');
  });

  it('a snapshot (the app hands models back this way) with NaN or a negative variance is refused by restore', () => {
    const m = new Model(spec, jsKernels).init(1);
    const s = m.snapshot();
    const varEntry = m.entry('bn1.running_var')!;
    const bad = { params: s.params, buffers: s.buffers.slice() };
    bad.buffers[varEntry.offset + 1] = -2;
    expect(() => m.restore(bad, 'the model')).toThrow('the model: tensor bn1.running_var holds the negative variance -2 at index 1');
    const nan = { params: s.params.slice(), buffers: s.buffers };
    nan.params[m.entry('conv2.bias')!.offset] = Number.POSITIVE_INFINITY;
    expect(() => m.restore(nan, 'the model')).toThrow('the model: tensor conv2.bias holds Infinity at index 0');
  });
});

describe('metadata strings are cleaned and capped', () => {
  const spec = PRESETS['lenet5-tanh-mse'].spec;
  const tensors = (): SafeTensorInput[] => new Model(spec, jsKernels).init(1).namedTensors();

  it('terminal escapes and bidi controls in the preset name never come out', () => {
    const evil = 'lenet5\u001b]0;pwned\u0007\u001b[2J\u202e-tanh\u0000';
    const loaded = decodeModelFile(lenetFile(spec, tensors(), evil), 'evil.lenet');
    expect(loaded.preset).toBe('lenet5]0;pwned[2J-tanh');
    // eslint-disable-next-line no-control-regex
    expect(loaded.preset).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
  });

  it(`a 10 MB preset name comes out as at most ${MAX_PRESET_NAME} characters`, () => {
    const loaded = decodeModelFile(lenetFile(spec, tensors(), 'x'.repeat(10_000_000)), 'long.lenet');
    expect(Array.from(loaded.preset!)).toHaveLength(MAX_PRESET_NAME);
    expect(loaded.preset!.endsWith('…')).toBe(true);
  });

  it('strings inside the JSON metadata lose their control characters, keep their length', () => {
    const file = encodeSafetensors(tensors(), {
      format: 'lenet-studio-model/1',
      spec: JSON.stringify(spec),
      training: JSON.stringify({ data: 'mnist\u001b[31m', long: 'a'.repeat(1000) }),
      'x-csv': JSON.stringify({ classes: ['cat\u0007', 'dog'] }),
    });
    const loaded = decodeModelFile(file, 'm.lenet');
    expect(loaded.training).toEqual({ data: 'mnist[31m', long: 'a'.repeat(1000) });
    expect(loaded.extra.csv).toEqual({ classes: ['cat', 'dog'] });
  });

  it('error messages quote hostile spec values short and escaped: no raw ESC, no 10 MB line', () => {
    const base = PRESETS['lenet5-tanh-mse'].spec;
    const messages = [
      { ...base, loss: 'x'.repeat(10_000_000) },
      { ...base, ['\u001b]0;pwned\u0007']: 1 },
      { ...base, layers: [{ type: 'activation', fn: '\u009b2J\u202eevil' }] },
      { ...base, input: Array.from({ length: 1_000_000 }, () => 1) },
    ].map((spec) => refusal(() => decodeModelFile(lenetFile(spec), 'q.lenet')).message);
    for (const m of messages) {
      expect(m.length).toBeLessThan(200);
      // eslint-disable-next-line no-control-regex
      expect(m).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    }
    // Read from a file, strings lose their control characters first; validateSpec alone escapes them.
    expect(messages[1]).toBe('q.lenet: model spec: spec has unknown key "]0;pwned"');
    expect(messages[2]).toContain('got "2Jevil"');
    expect(() => validateSpec({ ...base, layers: [{ type: 'activation', fn: '\u009b2J\u202e\u001b' }] })).toThrow('got "\\u009b2J\\u202e\\u001b"');
  });

  it('deeply nested JSON metadata is a header error, not a crash', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const file = encodeSafetensors(tensors(), { format: 'lenet-studio-model/1', spec: JSON.stringify(spec), training: deep });
    const e = refusal(() => decodeModelFile(file, 'deep.lenet'));
    expect(e.message).toMatch(/^deep\.lenet: metadata "training" is (nested too deeply|not valid JSON)$/);
  });

  it('the encoder writes a cleaned preset name, so an export never carries one raw', () => {
    const m = new Model(spec, jsKernels).init(1);
    const loaded = decodeModelFile(encodeModelFile(m, { preset: `a\u001b[2J${'b'.repeat(100)}` }), 'm.lenet');
    expect(loaded.preset).toBe(cleanMetaString(`a[2J${'b'.repeat(100)}`, MAX_PRESET_NAME));
  });
});

describe('files that are no model at all get a plain sentence, the technical cause as detail', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  it.each<[string, Uint8Array, string]>([
    ['notes.txt', enc('Shopping list\nmilk, eggs, bread\nremember the model file\n'), 'it looks like text'],
    ['data.csv', enc('label,pixel0,pixel1\n3,0,255\n'), 'it looks like CSV text'],
    ['spec.json', enc('{"input":[1,28,28]}'), 'it looks like JSON text'],
    ['digit.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]), 'it looks like a PNG image'],
    ['models.zip', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0, 1, 2, 3, 4]), 'it looks like a zip archive'],
    ['empty.lenet', new Uint8Array(0), 'it is empty'],
  ])('%s', (name, bytes, kind) => {
    const e = refusal(() => decodeModelFile(bytes, name));
    expect(e.message).toBe(`${name} is not a LeNet Studio model (${kind})`);
    expect(e.detail).toMatch(new RegExp(`^${name.replace('.', '\\.')}: `));
    expect(e).toBeInstanceOf(EngineError);
  });

  it('bytes larger than any model within the caps are refused before they are parsed', () => {
    const e = refusal(() => decodeModelFile(new Uint8Array(MAX_MODEL_FILE_BYTES + 1), 'big.lenet'));
    expect(e.message).toBe(`big.lenet: ${MAX_MODEL_FILE_BYTES + 1} bytes is larger than any model LeNet Studio reads (${MAX_MODEL_FILE_BYTES} bytes)`);
    expect(MAX_MODEL_FILE_BYTES).toBe(8 + 16 * 1024 * 1024 + 4 * SPEC_CAPS.parameters + 1024 * 1024);
  });

  it('a damaged safetensors file keeps its precise message', () => {
    const good = encodeModelFile(new Model(PRESETS['lenet5-tanh-mse'].spec, jsKernels).init(1));
    const e = refusal(() => decodeModelFile(good.subarray(0, good.length - 10), 'cut.lenet'));
    expect(e.message).toMatch(/^cut\.lenet: tensor fc3\.bias needs bytes \d+\.\.\d+ of the data section but the file holds only \d+ \(truncated\?\)$/);
  });
});

describe('specDifference', () => {
  it('names the first layer that computes differently and ignores init settings', () => {
    const tanh = PRESETS['lenet5-tanh-mse'].spec;
    const relu = PRESETS['lenet5-relu-ce'].spec;
    expect(specDifference(tanh, relu, 'in the file', 'in lenet5-relu-ce')).toBe('layer 2 is tanh activation in the file, relu activation in lenet5-relu-ce');
    expect(specDifference(tanh, { ...tanh, init: 'normal', initScale: 0.3 })).toBeNull();
    const open = { ...tanh, layers: tanh.layers.map((l) => (l.type === 'conv2d' && l.table ? { ...l, table: undefined } : l)) };
    expect(specDifference(tanh, open)).toBe('layer 4 is conv2d 16 filters 5×5 (connection table) here, conv2d 16 filters 5×5 there');
  });
});
