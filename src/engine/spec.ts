// The model spec: a plain JSON description of a network. It is what a `.lenet` file stores,
// what the UI shows and what two runs are diffed by. `validateSpec` turns untrusted JSON into
// a checked spec and infers every layer's shape, so an impossible network is refused before
// any buffer is allocated.

import { SpecError, quoteValue } from './errors';
import { convOutSize } from './kernels/types';
import type { Shape } from './tensor';
import { formatShape, shapeSize } from './tensor';

export const ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'softmax'] as const;
export type ActivationFn = (typeof ACTIVATIONS)[number];

export const INITS = ['uniform', 'normal', 'lecun-uniform', 'lecun-normal', 'xavier-uniform', 'xavier-normal', 'kaiming-uniform', 'kaiming-normal'] as const;
export type InitName = (typeof INITS)[number];

export const LOSSES = ['mse', 'cross-entropy'] as const;
export type LossName = (typeof LOSSES)[number];

export interface ConvSpec {
  type: 'conv2d';
  name?: string;
  filters: number;
  kernel: number;
  stride?: number;
  padding?: number;
  /** Connection table, table[in][out] ∈ {0,1}; absent = fully connected. */
  table?: number[][];
  init?: InitName;
}
export interface PoolSpec {
  type: 'pool2d';
  name?: string;
  mode: 'max' | 'avg';
  size: number;
  stride?: number;
}
export interface DenseSpec {
  type: 'dense';
  name?: string;
  units: number;
  init?: InitName;
}
export interface BatchNormSpec {
  type: 'batchnorm';
  name?: string;
  eps?: number;
  momentum?: number;
}
export interface ActivationSpec {
  type: 'activation';
  name?: string;
  fn: ActivationFn;
}
export interface FlattenSpec {
  type: 'flatten';
  name?: string;
}
export type LayerSpec = ConvSpec | PoolSpec | DenseSpec | BatchNormSpec | ActivationSpec | FlattenSpec;
export type LayerKind = LayerSpec['type'];

export interface ModelSpec {
  /** Per-sample input shape [C, H, W]; pixels are scaled to [0, 1]. */
  input: [number, number, number];
  layers: LayerSpec[];
  loss: LossName;
  /** Default init for conv and dense layers that name none. */
  init?: InitName;
  /** Bound of `uniform` / standard deviation of `normal` init. */
  initScale?: number;
}

/** A layer spec with its name filled in and its shapes inferred. */
export type ResolvedLayer = LayerSpec & { name: string; inShape: Shape; outShape: Shape };

const MAX_LAYERS = 64;
const MAX_UNITS = 1 << 16;

/**
 * What one network may cost, checked by `validateSpec` from the spec alone (in time linear in its
 * length) before any layer, buffer or conv plan is built. LeNet-5 uses under 1 % of each.
 */
export const SPEC_CAPS = {
  /** Weights, biases and batch-norm statistics together: 64 MiB as F32 (LeNet-5: 61,706). */
  parameters: 1 << 24,
  /**
   * Floats per image in the input plus every layer's output: 1 MiB per image, so a batch of 500
   * (evaluation) holds at most 500 MiB of activations (LeNet-5: 15,796; a 512×512 input alone fills it).
   */
  activations: 1 << 18,
  /** Forward multiply-adds per image (LeNet-5: about 0.35 M). */
  macs: 1 << 27,
  /** im2col columns C·K²·OH·OW summed over the conv layers, the size of their scratch (LeNet-5: 34,600). */
  convColumns: 1 << 22,
  /** Work of pairing a connection table's output maps, filters²·⌈channels/32⌉ summed over tabled convs. */
  planWork: 1 << 25,
} as const;

function fail(message: string): never {
  throw new SpecError('SPEC_INVALID', `model spec: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(v: unknown, what: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    fail(`${what} must be an integer in ${lo}..${hi}, got ${quoteValue(v)}`);
  }
  return v;
}

function optInt(v: unknown, what: string, lo: number, hi: number, dflt: number): number {
  return v === undefined ? dflt : int(v, what, lo, hi);
}

function oneOf<T extends string>(v: unknown, what: string, options: readonly T[]): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
    fail(`${what} must be one of ${options.join(', ')}, got ${quoteValue(v)}`);
  }
  return v as T;
}

function optName(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(v)) fail(`${what}.name must be an identifier, got ${quoteValue(v)}`);
  return v;
}

function allowOnly(o: Record<string, unknown>, keys: string[], what: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${what} has unknown key ${quoteValue(k)}`);
}

/** Checks untrusted JSON and returns a spec whose every layer is known to fit the next. */
export function validateSpec(raw: unknown): ModelSpec {
  if (!isRecord(raw)) fail('expected an object');
  allowOnly(raw, ['input', 'layers', 'loss', 'init', 'initScale'], 'spec');
  const input = raw.input;
  if (!Array.isArray(input) || input.length !== 3) fail(`input must be [channels, height, width], got ${quoteValue(input)}`);
  const spec: ModelSpec = {
    input: [int(input[0], 'input channels', 1, 64), int(input[1], 'input height', 1, 1024), int(input[2], 'input width', 1, 1024)],
    layers: [],
    loss: oneOf(raw.loss, 'loss', LOSSES),
  };
  if (raw.init !== undefined) spec.init = oneOf(raw.init, 'init', INITS);
  if (raw.initScale !== undefined) {
    if (typeof raw.initScale !== 'number' || !(raw.initScale > 0 && raw.initScale < 100)) fail(`initScale must be a number in (0, 100)`);
    spec.initScale = raw.initScale;
  }
  if (!Array.isArray(raw.layers) || raw.layers.length === 0 || raw.layers.length > MAX_LAYERS) {
    fail(`layers must be a list of 1..${MAX_LAYERS} layers`);
  }
  raw.layers.forEach((l: unknown, i: number) => spec.layers.push(validateLayer(l, `layers[${i}]`)));
  resolveLayers(spec); // throws on impossible shapes
  return spec;
}

function validateLayer(l: unknown, what: string): LayerSpec {
  if (!isRecord(l)) fail(`${what} must be an object`);
  const type = oneOf(l.type, `${what}.type`, ['conv2d', 'pool2d', 'dense', 'batchnorm', 'activation', 'flatten'] as const);
  const name = optName(l.name, what);
  const named = <T extends LayerSpec>(s: T): T => (name === undefined ? s : { ...s, name });
  switch (type) {
    case 'conv2d': {
      allowOnly(l, ['type', 'name', 'filters', 'kernel', 'stride', 'padding', 'table', 'init'], what);
      const s: ConvSpec = {
        type,
        filters: int(l.filters, `${what}.filters`, 1, 1024),
        kernel: int(l.kernel, `${what}.kernel`, 1, 32),
        stride: optInt(l.stride, `${what}.stride`, 1, 32, 1),
        padding: optInt(l.padding, `${what}.padding`, 0, 32, 0),
      };
      if (l.init !== undefined) s.init = oneOf(l.init, `${what}.init`, INITS);
      if (l.table !== undefined) s.table = validateTable(l.table, `${what}.table`, s.filters);
      return named(s);
    }
    case 'pool2d': {
      allowOnly(l, ['type', 'name', 'mode', 'size', 'stride'], what);
      const size = int(l.size, `${what}.size`, 1, 32);
      return named({ type, mode: oneOf(l.mode, `${what}.mode`, ['max', 'avg'] as const), size, stride: optInt(l.stride, `${what}.stride`, 1, 32, size) });
    }
    case 'dense': {
      allowOnly(l, ['type', 'name', 'units', 'init'], what);
      const s: DenseSpec = { type, units: int(l.units, `${what}.units`, 1, MAX_UNITS) };
      if (l.init !== undefined) s.init = oneOf(l.init, `${what}.init`, INITS);
      return named(s);
    }
    case 'batchnorm': {
      allowOnly(l, ['type', 'name', 'eps', 'momentum'], what);
      const s: BatchNormSpec = { type };
      if (l.eps !== undefined) {
        if (typeof l.eps !== 'number' || !(l.eps > 0 && l.eps < 1)) fail(`${what}.eps must be in (0, 1)`);
        s.eps = l.eps;
      }
      if (l.momentum !== undefined) {
        if (typeof l.momentum !== 'number' || !(l.momentum >= 0 && l.momentum <= 1)) fail(`${what}.momentum must be in [0, 1]`);
        s.momentum = l.momentum;
      }
      return named(s);
    }
    case 'activation':
      allowOnly(l, ['type', 'name', 'fn'], what);
      return named({ type, fn: oneOf(l.fn, `${what}.fn`, ACTIVATIONS) });
    case 'flatten':
      allowOnly(l, ['type', 'name'], what);
      return named({ type });
  }
}

function validateTable(t: unknown, what: string, filters: number): number[][] {
  if (!Array.isArray(t) || t.length === 0 || t.length > 1024) fail(`${what} must be a list of rows, one per input channel`);
  return t.map((row: unknown, i: number) => {
    if (!Array.isArray(row) || row.length !== filters) fail(`${what}[${i}] must have ${filters} entries (one per output channel)`);
    return row.map((v: unknown, j: number) => {
      if (v !== 0 && v !== 1) fail(`${what}[${i}][${j}] must be 0 or 1, got ${quoteValue(v)}`);
      return v;
    });
  });
}

/** Names every layer (conv1, bn1, act1, pool1, fc1 …, the last activation `output`) and infers shapes. */
export function resolveLayers(spec: ModelSpec): ResolvedLayer[] {
  const counters: Record<string, number> = {};
  const prefix: Record<LayerKind, string> = { conv2d: 'conv', pool2d: 'pool', dense: 'fc', batchnorm: 'bn', activation: 'act', flatten: 'flatten' };
  let shape: Shape = spec.input;
  const out: ResolvedLayer[] = [];
  const total: Record<keyof typeof SPEC_CAPS, number> = { parameters: 0, activations: shapeSize(shape), macs: 0, convColumns: 0, planWork: 0 };
  if (total.activations > SPEC_CAPS.activations) fail(`input ${formatShape(shape)} is above the cap of ${SPEC_CAPS.activations} values per image`);
  const lastAct = spec.layers.length - 1 - [...spec.layers].reverse().findIndex((l) => l.type === 'activation');
  spec.layers.forEach((l, i) => {
    const what = `layers[${i}] (${l.type})`;
    counters[l.type] = (counters[l.type] ?? 0) + 1;
    const auto = l.type === 'activation' && i === spec.layers.length - 1 && i === lastAct ? 'output' : `${prefix[l.type]}${counters[l.type]}`;
    const name = l.name ?? auto;
    const inShape = shape;
    switch (l.type) {
      case 'conv2d': {
        if (shape.length !== 3) fail(`${what} needs a [C,H,W] input, got ${formatShape(shape)}`);
        const [C, H, W] = shape;
        const stride = l.stride ?? 1;
        const pad = l.padding ?? 0;
        const OH = convOutSize(H, l.kernel, stride, pad);
        const OW = convOutSize(W, l.kernel, stride, pad);
        if (OH < 1 || OW < 1) fail(`${what}: a ${l.kernel}×${l.kernel} kernel does not fit a ${formatShape(shape)} input with padding ${pad}`);
        if (l.table && l.table.length !== C) fail(`${what}.table has ${l.table.length} rows but the input has ${C} channels`);
        if (l.table) {
          for (let o = 0; o < l.filters; o++) if (!l.table.some((row) => row[o] === 1)) fail(`${what}.table leaves output channel ${o} without inputs`);
        }
        shape = [l.filters, OH, OW];
        break;
      }
      case 'pool2d': {
        if (shape.length !== 3) fail(`${what} needs a [C,H,W] input, got ${formatShape(shape)}`);
        const [C, H, W] = shape;
        const stride = l.stride ?? l.size;
        if (l.size > H || l.size > W) fail(`${what}: a ${l.size}×${l.size} window does not fit a ${formatShape(shape)} input`);
        shape = [C, Math.floor((H - l.size) / stride) + 1, Math.floor((W - l.size) / stride) + 1];
        break;
      }
      case 'dense':
        if (shape.length !== 1) fail(`${what} needs a flat input, got ${formatShape(shape)}: add a flatten layer before it`);
        shape = [l.units];
        break;
      case 'flatten':
        shape = [shapeSize(shape)];
        break;
      case 'activation':
        if (l.fn === 'softmax' && shape.length !== 1) fail(`${what}: softmax needs a flat input, got ${formatShape(shape)}`);
        break;
      case 'batchnorm':
        break;
    }
    const resolved = { ...l, name, inShape, outShape: shape };
    const cost = layerCost(resolved);
    total.parameters += cost.parameters;
    total.activations += shapeSize(shape);
    total.macs += cost.macs;
    total.convColumns += cost.convColumns;
    total.planWork += cost.planWork;
    for (const key of Object.keys(SPEC_CAPS) as (keyof typeof SPEC_CAPS)[]) {
      if (total[key] > SPEC_CAPS[key]) fail(`${what} brings the network's ${CAP_WORDS[key]} to ${total[key]}, above the cap of ${SPEC_CAPS[key]}`);
    }
    out.push(resolved);
  });
  const names = new Set<string>();
  for (const l of out) {
    if (names.has(l.name)) fail(`two layers are named "${l.name}"`);
    names.add(l.name);
  }
  const last = out[out.length - 1];
  if (last.outShape.length !== 1) fail(`the last layer must output a vector of class scores, got ${formatShape(last.outShape)}`);
  if (last.outShape[0] < 2) fail(`the network must output at least 2 classes, got ${last.outShape[0]}`);
  if (spec.loss === 'cross-entropy' && !(last.type === 'activation' && last.fn === 'softmax')) {
    fail('cross-entropy needs a softmax activation as the last layer');
  }
  if (spec.loss === 'mse' && last.type === 'activation' && last.fn === 'softmax') {
    fail('mse with a softmax output is not supported: use cross-entropy');
  }
  return out;
}

const CAP_WORDS: Record<keyof typeof SPEC_CAPS, string> = {
  parameters: 'parameter count',
  activations: 'values per image (input and layer outputs)',
  macs: 'multiply-adds per image',
  convColumns: 'conv scratch (im2col columns)',
  planWork: 'connection-table pairing work',
};

/** A tensor a layer owns, with PyTorch's local name: `weight`, `bias`, `running_mean`, `running_var`. */
export interface LayerTensor {
  name: string;
  shape: Shape;
  /** 'param' is trained; 'buffer' is not (batch-norm running statistics). */
  store: 'param' | 'buffer';
}

/** The tensors a resolved layer owns, in state_dict order (the layers declare the same ones). */
export function layerTensors(l: ResolvedLayer): LayerTensor[] {
  switch (l.type) {
    case 'conv2d':
      return [
        { name: 'weight', shape: [l.filters, l.inShape[0], l.kernel, l.kernel], store: 'param' },
        { name: 'bias', shape: [l.filters], store: 'param' },
      ];
    case 'dense':
      return [
        { name: 'weight', shape: [l.units, shapeSize(l.inShape)], store: 'param' },
        { name: 'bias', shape: [l.units], store: 'param' },
      ];
    case 'batchnorm': {
      const C = l.inShape[0];
      return [
        { name: 'weight', shape: [C], store: 'param' },
        { name: 'bias', shape: [C], store: 'param' },
        { name: 'running_mean', shape: [C], store: 'buffer' },
        { name: 'running_var', shape: [C], store: 'buffer' },
      ];
    }
    default:
      return [];
  }
}

/** Every tensor of a checked spec by full name (`conv2.weight`), in network order. */
export function specTensors(spec: ModelSpec): (LayerTensor & { layer: string; local: string })[] {
  return resolveLayers(spec).flatMap((l) => layerTensors(l).map((t) => ({ ...t, name: `${l.name}.${t.name}`, layer: l.name, local: t.name })));
}

/** What one layer costs: its parameter count, forward multiply-adds, conv scratch and plan work. */
function layerCost(l: ResolvedLayer): { parameters: number; macs: number; convColumns: number; planWork: number } {
  const parameters = layerTensors(l).reduce((n, t) => n + shapeSize(t.shape), 0);
  const out = shapeSize(l.outShape);
  switch (l.type) {
    case 'conv2d': {
      const C = l.inShape[0];
      const k2 = l.kernel * l.kernel;
      const P = l.outShape[1] * l.outShape[2];
      // A connection table's rows: its 1s (each row was already walked to validate it).
      const connections = l.table ? l.table.reduce((n, row) => n + row.reduce((a, v) => a + v, 0), 0) : l.filters * C;
      return {
        parameters,
        macs: connections * k2 * P,
        convColumns: C * k2 * P,
        planWork: l.table ? l.filters * l.filters * Math.ceil(C / 32) : 0,
      };
    }
    case 'dense':
      return { parameters, macs: shapeSize(l.inShape) * l.units, convColumns: 0, planWork: 0 };
    case 'pool2d':
      return { parameters, macs: out * l.size * l.size, convColumns: 0, planWork: 0 };
    default:
      return { parameters, macs: out, convColumns: 0, planWork: 0 };
  }
}

/** One layer in a few words, for messages: "conv2d 16 filters 5×5 (connection table)", "tanh". */
export function describeLayer(l: LayerSpec): string {
  switch (l.type) {
    case 'conv2d': {
      const extras = [
        (l.stride ?? 1) !== 1 ? `stride ${l.stride}` : '',
        (l.padding ?? 0) !== 0 ? `padding ${l.padding}` : '',
        l.table ? 'connection table' : '',
      ];
      const more = extras.filter(Boolean).join(', ');
      return `conv2d ${l.filters} filters ${l.kernel}×${l.kernel}${more ? ` (${more})` : ''}`;
    }
    case 'pool2d':
      return `${l.mode} pool ${l.size}×${l.size}${(l.stride ?? l.size) !== l.size ? ` stride ${l.stride}` : ''}`;
    case 'dense':
      return `dense ${l.units} units`;
    case 'batchnorm':
      return `batchnorm (eps ${l.eps ?? 1e-5}, momentum ${l.momentum ?? 0.1})`;
    case 'activation':
      return `${l.fn} activation`;
    case 'flatten':
      return 'flatten';
  }
}

/**
 * The first way two networks compute differently, in words ("layer 3 is tanh activation here,
 * relu activation there"), or null when they are the same network. Initialisation settings are
 * ignored: they do not change what trained weights compute.
 */
export function specDifference(a: ModelSpec, b: ModelSpec, here = 'here', there = 'there'): string | null {
  if (a.input.join() !== b.input.join()) return `the input is ${a.input.join('×')} ${here}, ${b.input.join('×')} ${there}`;
  const n = Math.min(a.layers.length, b.layers.length);
  for (let i = 0; i < n; i++) {
    const [x, y] = [a.layers[i], b.layers[i]];
    const [dx, dy] = [describeLayer(x), describeLayer(y)];
    const sameTable = x.type !== 'conv2d' || y.type !== 'conv2d' || JSON.stringify(x.table ?? null) === JSON.stringify(y.table ?? null);
    if (dx !== dy) return `layer ${i + 1} is ${dx} ${here}, ${dy} ${there}`;
    if (!sameTable) return `layer ${i + 1} (${dx}) has another connection table ${here} than ${there}`;
    if ((x.name ?? '') !== (y.name ?? '')) return `layer ${i + 1} is named ${x.name ?? '(auto)'} ${here}, ${y.name ?? '(auto)'} ${there}`;
  }
  if (a.layers.length !== b.layers.length) return `the network has ${a.layers.length} layers ${here}, ${b.layers.length} ${there}`;
  if (a.loss !== b.loss) return `the loss is ${a.loss} ${here}, ${b.loss} ${there}`;
  return null;
}
