// The ONNX graph of a model in inference mode, as plain data. Serialising it to protobuf bytes
// is `src/node/onnx.ts`'s job (it uses protobufjs; the engine stays dependency-free).
//
// One ONNX node per layer, named after the layer; initializers carry the PyTorch state_dict
// names (conv1.weight, bn1.running_var …), so Netron shows the same names as the .lenet file:
//   conv2d      Conv (kernel_shape, strides, pads); a connection table becomes zeroed weights
//   batchnorm   BatchNormalization with the running statistics (not folded: the file keeps the
//               trained tensors as they are, and BN stays visible in Netron)
//   pool2d      MaxPool / AveragePool (no padding, floor)
//   flatten     Flatten(axis=1): NCHW order, as the engine flattens
//   dense       Gemm(transB=1) with weight [out, in]
//   activation  Tanh / Relu / Sigmoid / Softmax(axis=1)
// Input "input" [N,C,H,W] float pixels in [0,1]; output "output" [N,classes] = the last layer
// (softmax probabilities or tanh outputs); N is a symbolic batch dimension.
// A table model (`train --csv`) is exported with its standardisation in the graph: input
// "input" [N,F] raw feature values, then Sub(mean) and Div(std) ("standardization.mean",
// "standardization.std", float32 [F]) before the first layer, so raw rows give the class the
// engine gives them.

import { ModelFileError } from '../errors';
import type { Model } from '../model';
import { resolveLayers, type ResolvedLayer } from '../spec';

/** Opset 13 (IR 7): what ONNX 1.8+ and every current runtime read; all our ops exist in it. */
export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 7;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'output';
export const ONNX_BATCH_DIM = 'N';

export type OnnxAttribute =
  | { name: string; type: 'INT'; i: number }
  | { name: string; type: 'INTS'; ints: number[] }
  | { name: string; type: 'FLOAT'; f: number }
  | { name: string; type: 'STRING'; s: string };

export interface OnnxNode {
  name: string;
  opType: 'Sub' | 'Div' | 'Conv' | 'BatchNormalization' | 'MaxPool' | 'AveragePool' | 'Flatten' | 'Gemm' | 'Tanh' | 'Relu' | 'Sigmoid' | 'Softmax';
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
  docString?: string;
}

/** A float32 constant (weights, biases, BN statistics). */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array;
}

/** A float32 value with its shape; a string dimension is symbolic (the batch). */
export interface OnnxValueInfo {
  name: string;
  dims: (number | string)[];
  docString?: string;
}

export interface OnnxGraph {
  irVersion: number;
  opset: number;
  name: string;
  docString: string;
  producerName: string;
  producerVersion: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Shapes of the intermediate values, for viewers such as Netron. */
  valueInfo: OnnxValueInfo[];
  initializers: OnnxInitializer[];
  nodes: OnnxNode[];
  /** ModelProto.metadata_props. */
  metadata: Record<string, string>;
}

export interface OnnxExportOptions {
  /** Graph name (default: the preset name, else "lenet"). */
  name?: string;
  /** Preset the model came from, recorded in the metadata. */
  preset?: string;
  /** Extra metadata_props entries. */
  metadata?: Record<string, string>;
  /**
   * A table model's feature standardisation (`x-csv` of its .lenet): the graph takes raw rows
   * [N,F] and computes (x − mean) / std itself.
   */
  table?: { features: readonly string[]; classNames: readonly string[]; mean: readonly number[]; std: readonly number[] };
  /**
   * The temperature of a calibrated model (`x-calibration`): a softmax output divides its input by
   * it first (Div by the initializer "calibration.temperature"). A model without a softmax output
   * (tanh/MSE) only records it in `lenet.temperature`: its scores are computed outside the graph.
   */
  temperature?: number;
}

export const ONNX_PRODUCER = 'LeNet Studio';
/** Version of this exporter's conventions (names, metadata keys), recorded as producer_version. */
export const ONNX_EXPORT_VERSION = 'onnx-export/1';

function outputDescription(model: Model, last: ResolvedLayer): string {
  if (last.type === 'activation') {
    switch (last.fn) {
      case 'softmax':
        return 'softmax class probabilities';
      case 'tanh':
        return 'tanh class scores in [-1, 1] (the largest is the predicted class)';
      case 'sigmoid':
        return 'sigmoid class scores in [0, 1] (the largest is the predicted class)';
      case 'relu':
        return 'ReLU class scores (the largest is the predicted class)';
    }
  }
  return `${last.type} class scores (the largest is the predicted class, loss ${model.spec.loss})`;
}

/** A copy of a named tensor, refusing non-finite values (ONNX would carry them silently). */
function initializer(model: Model, name: string): OnnxInitializer {
  const e = model.entry(name);
  if (!e) throw new Error(`internal error: the model has no tensor ${name}`);
  const data = model.tensor(name).slice();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ModelFileError('MODEL_NOT_FINITE', `cannot export tensor ${name}: value ${i} is ${data[i]} (the model diverged?)`);
    }
  }
  return { name, dims: [...e.shape], data };
}

/**
 * The inference-mode ONNX graph of `model`: same weights, same arithmetic as
 * `model.forward(x, n, false)`.
 */
export function buildOnnxGraph(model: Model, options: OnnxExportOptions = {}): OnnxGraph {
  const layers = resolveLayers(model.spec);
  const nodes: OnnxNode[] = [];
  const temperature = options.temperature ?? 1;
  if (!(Number.isFinite(temperature) && temperature > 0))
    throw new ModelFileError('MODEL_BAD_VALUE', `cannot export a calibration temperature of ${temperature}`);
  const initializers: OnnxInitializer[] = [];
  const valueInfo: OnnxValueInfo[] = [];
  const batchDims = (shape: readonly number[]): (number | string)[] => [ONNX_BATCH_DIM, ...shape];
  // Value names are the layer names (identifiers, so they never clash with the dotted
  // initializer names); the graph's own "input"/"output" are reserved.
  const valueName = (l: ResolvedLayer, last: boolean): string =>
    last ? ONNX_OUTPUT : l.name === ONNX_INPUT || l.name === ONNX_OUTPUT ? `${l.name}_value` : l.name;

  let x = ONNX_INPUT;
  const table = options.table;
  const F = model.inShape.reduce((a, b) => a * b, 1);
  if (!table && model.inShape[0] === 1 && model.inShape[1] === 1) {
    // A 1×1×F input is a table model (train --csv): without its standardisation the graph would
    // take raw rows and give wrong classes without a word.
    throw new ModelFileError(
      'MODEL_MISMATCH',
      `a table model (${F} features) is exported with the standardisation its .lenet records (x-csv); use npm run export on the .lenet file`,
    );
  }
  if (table) {
    // The engine standardises in float64 and stores float32; the graph does it in float32.
    // Both round the same inputs, so outputs agree to float32 precision.
    const first = layers[0];
    if (first === undefined || (first.type !== 'flatten' && first.type !== 'dense')) {
      throw new ModelFileError('MODEL_MISMATCH', 'a standardised table model must start with a flatten or dense layer');
    }
    const finite = (v: readonly number[]): boolean => v.length === F && v.every((e) => Number.isFinite(Math.fround(e)));
    if (!finite(table.mean) || !finite(table.std) || table.std.some((e) => !(Math.fround(e) > 0)) || table.features.length !== F) {
      throw new ModelFileError('MODEL_BAD_HEADER', `the standardisation does not fit the model's ${F} inputs`);
    }
    const mean = { name: 'standardization.mean', dims: [F], data: Float32Array.from(table.mean) };
    const std = { name: 'standardization.std', dims: [F], data: Float32Array.from(table.std) };
    initializers.push(mean, std);
    nodes.push(
      { name: 'standardize_sub', opType: 'Sub', inputs: [ONNX_INPUT, mean.name], outputs: ['centred'], attributes: [], docString: 'x − training mean' },
      { name: 'standardize_div', opType: 'Div', inputs: ['centred', std.name], outputs: ['standardized'], attributes: [], docString: '÷ training std' },
    );
    valueInfo.push({ name: 'centred', dims: [ONNX_BATCH_DIM, F] }, { name: 'standardized', dims: [ONNX_BATCH_DIM, F] });
    x = 'standardized';
  }
  layers.forEach((l, i) => {
    const last = i === layers.length - 1;
    const y = valueName(l, last);
    const node = (opType: OnnxNode['opType'], inputs: string[], attributes: OnnxAttribute[], docString?: string): OnnxNode => ({
      name: l.name,
      opType,
      inputs,
      outputs: [y],
      attributes,
      ...(docString === undefined ? {} : { docString }),
    });
    switch (l.type) {
      case 'conv2d': {
        const w = initializer(model, `${l.name}.weight`);
        let doc: string | undefined;
        if (l.table) {
          // The engine keeps masked weights at zero; zero them here too so the file says exactly
          // what the table says, whatever the buffer holds.
          const [OC, C, KH, KW] = w.dims;
          const k2 = KH * KW;
          for (let o = 0; o < OC; o++) for (let c = 0; c < C; c++) if (!l.table[c][o]) w.data.fill(0, (o * C + c) * k2, (o * C + c + 1) * k2);
          doc = 'partially connected (connection table): weights of absent input→output connections are zero';
        }
        initializers.push(w, initializer(model, `${l.name}.bias`));
        const stride = l.stride ?? 1;
        const pad = l.padding ?? 0;
        nodes.push(
          node(
            'Conv',
            [x, w.name, `${l.name}.bias`],
            [
              { name: 'kernel_shape', type: 'INTS', ints: [l.kernel, l.kernel] },
              { name: 'strides', type: 'INTS', ints: [stride, stride] },
              { name: 'pads', type: 'INTS', ints: [pad, pad, pad, pad] },
              { name: 'dilations', type: 'INTS', ints: [1, 1] },
              { name: 'group', type: 'INT', i: 1 },
            ],
            doc,
          ),
        );
        break;
      }
      case 'batchnorm': {
        const names = ['weight', 'bias', 'running_mean', 'running_var'].map((t) => `${l.name}.${t}`);
        for (const n of names) initializers.push(initializer(model, n));
        // epsilon is a float attribute: float32 of the spec's value, as PyTorch exports it.
        nodes.push(node('BatchNormalization', [x, ...names], [{ name: 'epsilon', type: 'FLOAT', f: l.eps ?? 1e-5 }], 'inference mode: running statistics'));
        break;
      }
      case 'pool2d': {
        const stride = l.stride ?? l.size;
        nodes.push(
          node(
            l.mode === 'max' ? 'MaxPool' : 'AveragePool',
            [x],
            [
              { name: 'kernel_shape', type: 'INTS', ints: [l.size, l.size] },
              { name: 'strides', type: 'INTS', ints: [stride, stride] },
              { name: 'pads', type: 'INTS', ints: [0, 0, 0, 0] },
              { name: 'ceil_mode', type: 'INT', i: 0 },
            ],
          ),
        );
        break;
      }
      case 'flatten':
        nodes.push(node('Flatten', [x], [{ name: 'axis', type: 'INT', i: 1 }]));
        break;
      case 'dense': {
        const w = initializer(model, `${l.name}.weight`);
        initializers.push(w, initializer(model, `${l.name}.bias`));
        nodes.push(
          node(
            'Gemm',
            [x, w.name, `${l.name}.bias`],
            [
              { name: 'alpha', type: 'FLOAT', f: 1 },
              { name: 'beta', type: 'FLOAT', f: 1 },
              { name: 'transA', type: 'INT', i: 0 },
              { name: 'transB', type: 'INT', i: 1 },
            ],
          ),
        );
        break;
      }
      case 'activation':
        switch (l.fn) {
          case 'tanh':
            nodes.push(node('Tanh', [x], []));
            break;
          case 'relu':
            nodes.push(node('Relu', [x], []));
            break;
          case 'sigmoid':
            nodes.push(node('Sigmoid', [x], []));
            break;
          case 'softmax':
            if (last && temperature !== 1) {
              const t = { name: 'calibration.temperature', dims: [1], data: Float32Array.of(temperature) };
              initializers.push(t);
              const scaled = `${l.name}_logits_over_t`;
              nodes.push({
                name: `${l.name}_temperature`,
                opType: 'Div',
                inputs: [x, t.name],
                outputs: [scaled],
                attributes: [],
                docString: 'logits ÷ calibration temperature',
              });
              valueInfo.push({ name: scaled, dims: batchDims(l.inShape) });
              x = scaled;
            }
            nodes.push(node('Softmax', [x], [{ name: 'axis', type: 'INT', i: 1 }]));
            break;
        }
        break;
    }
    if (!last) valueInfo.push({ name: y, dims: batchDims(l.outShape) });
    x = y;
  });

  const lastLayer = layers[layers.length - 1];
  const output = outputDescription(model, lastLayer);
  const name = options.name ?? options.preset ?? 'lenet';
  const inputText = table
    ? `${ONNX_INPUT}: float32 [${ONNX_BATCH_DIM},${F}], raw feature values in the column order of lenet.features (standardised inside the graph)`
    : `${ONNX_INPUT}: float32 [${ONNX_BATCH_DIM},${model.inShape.join(',')}], pixels scaled to [0, 1] (byte / 255), NCHW`;
  const metadata: Record<string, string> = {
    'lenet.format': ONNX_EXPORT_VERSION,
    'lenet.spec': JSON.stringify(model.spec),
    'lenet.input': inputText,
    'lenet.output': `${ONNX_OUTPUT}: float32 [${ONNX_BATCH_DIM},${model.classes}], ${output}${table ? ' (classes in the order of lenet.classes)' : ''}`,
    ...(table ? { 'lenet.features': JSON.stringify(table.features), 'lenet.classes': JSON.stringify(table.classNames) } : {}),
    ...(options.preset ? { 'lenet.preset': options.preset } : {}),
    ...(temperature !== 1 ? { 'lenet.temperature': String(temperature) } : {}),
    ...options.metadata,
  };
  return {
    irVersion: ONNX_IR_VERSION,
    opset: ONNX_OPSET,
    name,
    docString: `${name}: ${model.parameterCount} parameters, inference mode (batch norm uses running statistics). Output: ${output}.`,
    producerName: ONNX_PRODUCER,
    producerVersion: ONNX_EXPORT_VERSION,
    inputs: [
      table
        ? { name: ONNX_INPUT, dims: [ONNX_BATCH_DIM, F], docString: 'raw feature values, one row per sample (standardised inside the graph)' }
        : { name: ONNX_INPUT, dims: batchDims(model.inShape), docString: 'pixels scaled to [0, 1], NCHW' },
    ],
    outputs: [{ name: ONNX_OUTPUT, dims: batchDims([model.classes]), docString: output }],
    valueInfo,
    initializers,
    nodes,
    metadata,
  };
}
