// What units want, off the window's thread: activation maximisation of one layer's units and the
// top test images of every unit, on this worker's own copy of a model and its own kernels (the
// wasm SIMD ones when they load). Requests run one at a time, in the order they come; each posts
// progress, then its result or an error message. The model is kept until another is sent.

import { Explainer } from '@engine/explain';
import { Model } from '@engine/model';
import { maximise, topImages } from '@engine/unit-viz';
import { loadRendererKernels, type KernelStatus } from '../lib/renderer-kernels';
import type { UnitVizReply, UnitVizRequest } from '../lib/unit-viz-protocol';

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<UnitVizRequest>) => void) | null;
  postMessage(m: UnitVizReply, transfer?: Transferable[]): void;
};

let kernels: Promise<KernelStatus> | null = null;
let current: { key: number; ex: Explainer } | null = null;
let queue: Promise<void> = Promise.resolve();

async function explainer(req: UnitVizRequest): Promise<Explainer> {
  const k = await (kernels ??= loadRendererKernels());
  if (current?.key === req.modelKey) return current.ex;
  if (!req.model) throw new Error('internal error: the worker was not sent the model');
  current?.ex.model.dispose();
  current = null;
  const m = new Model(req.model.spec, k.kernels);
  try {
    m.restore({ params: req.model.params, buffers: req.model.buffers });
  } catch (e) {
    m.dispose();
    throw e;
  }
  current = { key: req.modelKey, ex: new Explainer(m) };
  return current.ex;
}

async function handle(req: UnitVizRequest): Promise<void> {
  const progress = (done: number, total: number): void => scope.postMessage({ id: req.id, type: 'progress', done, total });
  try {
    const ex = await explainer(req);
    if (req.type === 'top') {
      const result = topImages(ex, req.pixels, req.count, req.k, progress);
      scope.postMessage(
        { id: req.id, type: 'top', result },
        result.flatMap((r) => [r.index.buffer, r.value.buffer, r.mean.buffer]),
      );
    } else {
      const result = maximise(ex, req.layer, undefined, req.options, progress);
      scope.postMessage({ id: req.id, type: 'maximise', result }, [result.images.buffer, result.values.buffer]);
    }
  } catch (e) {
    scope.postMessage({ id: req.id, type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

scope.onmessage = (e) => {
  queue = queue.then(() => handle(e.data));
};
