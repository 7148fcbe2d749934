// ConvNetJS peer of `npm run bench:peers`: our LeNet-5 as closely as ConvNetJS 0.3.0 can build it.
// It works one image at a time on Float64Array volumes (its Trainer sums the gradients of
// `batch_size` images, then takes one momentum step), has max pooling only and no batch norm.

import { createRequire } from 'node:module';
import type convnetjsTypes from 'convnetjs';
import type { MnistData } from '../../src/node/datasets';
import {
  BatchOrder,
  PEER_PRESETS,
  measureLoop,
  measurement,
  warmUp,
  type Availability,
  type Measurement,
  type Peer,
  type PeerPreset,
  type Workload,
} from './peers';

type ConvNetJs = typeof convnetjsTypes;

async function loadConvNetJs(): Promise<ConvNetJs> {
  return (await import('convnetjs')).default;
}

/** conv 6@5×5 pad 2 → pool → conv 16@5×5 → pool → fc 120 → fc 84 → fc 10 → tanh+MSE or softmax+CE. */
export function buildConvNetJsLeNet(cn: ConvNetJs, preset: PeerPreset): convnetjsTypes.Net {
  const { act } = PEER_PRESETS[preset];
  const defs: convnetjsTypes.LayerDef[] = [
    { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: 'conv', sx: 5, filters: 6, stride: 1, pad: 2, activation: act },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 0, activation: act },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'fc', num_neurons: 120, activation: act },
    { type: 'fc', num_neurons: 84, activation: act },
  ];
  if (act === 'tanh') defs.push({ type: 'fc', num_neurons: 10, activation: 'tanh' }, { type: 'regression', num_neurons: 10 });
  else defs.push({ type: 'softmax', num_classes: 10 });
  const net = new cn.Net();
  net.makeLayers(defs);
  if (act === 'tanh') {
    // makeLayers puts an fc layer of its own before every regression layer; ours has tanh outputs
    // and the loss right on them, so drop that extra 10→10 layer.
    const i = net.layers.findIndex((l) => l.layer_type === 'regression');
    if (i < 1 || net.layers[i - 1].layer_type !== 'fc') throw new Error('bench: unexpected ConvNetJS layer list');
    net.layers.splice(i - 1, 1);
  }
  return net;
}

export class ConvNetJsPeer implements Peer {
  readonly id = 'convnetjs' as const;
  readonly label = 'ConvNetJS';
  readonly threads = false;
  readonly c3 = 'full' as const;

  notes(): string[] {
    return [
      'C3 fully connected; max pooling only (the tanh preset gets max, not average, pooling); no batch norm (relu-ce-bn runs without it)',
      'one image at a time in Float64Array volumes; its Trainer steps once per batch_size images; one thread',
    ];
  }

  async check(): Promise<Availability> {
    try {
      await loadConvNetJs();
      const require = createRequire(import.meta.url);
      const pkg = require('convnetjs/package.json') as { version: string };
      return { available: true, version: pkg.version };
    } catch (e) {
      return { available: false, reason: `cannot load convnetjs (${(e as Error).message}); run npm install` };
    }
  }

  async run(w: Workload, data: MnistData): Promise<Measurement> {
    if (w.c3 !== 'full') throw new Error('ConvNetJS has no C3 table');
    const cn = await loadConvNetJs();
    const tanh = PEER_PRESETS[w.preset].act === 'tanh';
    const net = buildConvNetJsLeNet(cn, w.preset);
    const trainer = new cn.Trainer(net, { method: 'sgd', learning_rate: w.lr, momentum: 0.9, batch_size: w.batch, l2_decay: 0 });
    const size = 28 * 28;
    // One input volume, refilled for every image (the input layer passes it on unchanged).
    const vol = new cn.Vol(28, 28, 1, 0);
    const target = new Array<number>(10).fill(0);
    const load = (pixels: Uint8Array, i: number): void => {
      const src = i * size;
      for (let k = 0; k < size; k++) vol.w[k] = pixels[src + k] / 255;
    };
    const order = new BatchOrder(data.train.count, w.seed);
    const losses: number[] = [];
    const trainStep = (): number => {
      const idx = order.next(w.batch);
      let sum = 0;
      for (let s = 0; s < w.batch; s++) {
        load(data.train.pixels, idx[s]);
        const label = data.train.labels[idx[s]];
        if (tanh) {
          target.fill(0);
          target[label] = 1;
          sum += trainer.train(vol, target).cost_loss;
        } else {
          sum += trainer.train(vol, label).cost_loss;
        }
      }
      return sum / w.batch;
    };
    let start = 0;
    const evalStep = (): void => {
      for (let s = 0; s < w.evalBatch; s++) {
        load(data.test.pixels, (start + s) % data.test.count);
        net.forward(vol, false);
      }
      start += w.evalBatch;
    };
    await warmUp(w.warmup, () => void trainStep());
    const train = await measureLoop(w.budget, false, () => void losses.push(trainStep()));
    await warmUp(Math.min(3, w.warmup), evalStep);
    const ev = await measureLoop(w.budget, true, evalStep);
    return measurement(this.id, w, train, ev, losses);
  }
}
