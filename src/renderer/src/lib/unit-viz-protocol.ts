// Messages between the unit-visualisation store and its worker (workers/unit-viz.worker.ts).

import type { ModelSpec } from '@engine/spec';
import type { Maximised, MaximiseOptions, TopUnits } from '@engine/unit-viz';

interface Base {
  id: number;
  /** Which model: the worker rebuilds its copy when this changes (then `model` must be sent). */
  modelKey: number;
  model?: { spec: ModelSpec; params: Float32Array; buffers: Float32Array };
}

export type UnitVizRequest =
  (Base & { type: 'top'; pixels: Uint8Array; count: number; k: number }) | (Base & { type: 'maximise'; layer: string; options?: MaximiseOptions });

export type UnitVizReply =
  | { id: number; type: 'progress'; done: number; total: number }
  | { id: number; type: 'top'; result: TopUnits[] }
  | { id: number; type: 'maximise'; result: Maximised }
  | { id: number; type: 'error'; message: string };
