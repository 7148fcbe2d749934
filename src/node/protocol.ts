// The messages between the main process (or any host: the test host, a test) and the trainer
// process. One file: the types, discriminated on `type`, and their validators. Both sides validate
// what they receive (`parseTrainerRequest` in the trainer, `parseTrainerEvent` in the host), so a
// confused or compromised peer produces an error, never undefined behaviour.
//
// Flow: the trainer posts `ready` first (like VS Code's IPC `Initialize`). Every request carries
// an `id` and gets exactly one `reply`. A run started by `train` then streams `status`,
// `progress` (at most ~10 a second), `epoch` and `snapshot` events, now and then a `notice` (a
// plain-words note that does not stop it), and ends with one `finished`.
// The run folder (src/node/runs/) is the durable record; these messages are the live view.

import {
  RUN_ENDS,
  RUN_ID_PATTERN,
  confusionSchema,
  epochMetricsSchema,
  evaluationSchema,
  type EpochEvent,
  type Evaluation,
  type ProgressEvent,
  type RunEnd,
  type SnapshotEvent,
} from '../common/records';
import { arr, bool, f32, int, json, literal, num, obj, optional, str, tagged, type Schema, ValidationError } from '../common/schema';
import { labelIssueSchema } from '../common/overlay';
import type { LabelIssue } from '../engine/data-lab/confident';

export const PROTOCOL_VERSION = 1;

/** An Error as it crosses a process boundary (Error objects do not survive structured clone intact). */
export interface WireError {
  name: string;
  /** EngineError code (`IDX_BAD_MAGIC`, `DIVERGED`, …), errno (`ENOSPC`) or `ERROR`. */
  code: string;
  message: string;
  stack?: string;
}

// ---------------------------------------------------------------- host → trainer

export type TrainerRequest =
  /** Train the run whose folder (run.json, written by the host) is `runDir`; `resume` continues from its checkpoint. */
  | { type: 'train'; id: number; runId: string; runDir: string; datasetDir: string; resume: boolean; overlay?: string }
  | { type: 'pause'; id: number; runId: string }
  | { type: 'resume'; id: number; runId: string }
  | { type: 'cancel'; id: number; runId: string }
  /** Evaluate a model on the test set of `datasetDir`; the reply carries `evaluation`. */
  | { type: 'evaluate'; id: number; spec: unknown; params: Float32Array; buffers: Float32Array; datasetDir: string }
  /** Accuracy against ε (adversarial.ts robustAccuracy) on the first `limit` test images; the reply carries `robustness`. */
  | {
      type: 'robustness';
      id: number;
      spec: unknown;
      params: Float32Array;
      buffers: Float32Array;
      datasetDir: string;
      attack: 'fgsm' | 'pgd';
      eps: number[];
      steps: number;
      limit: number;
    }
  /** Cancel any run (checkpointing it), reply, and exit. */
  | { type: 'shutdown'; id: number }
  /**
   * Rank the training images of `datasetDir` by how likely their label is wrong (src/node/data-lab):
   * probabilities from `cacheDir` when cached, else K-fold training (`label-issues-progress` events);
   * the reply carries the top `issues`. Refused while a run trains.
   */
  | { type: 'label-issues'; id: number; datasetDir: string; cacheDir: string; preset: string; folds: number; epochs: number; seed: number }
  /** Stop the label-issue finder between two batches (its request then fails with code CANCELLED); a no-op when none runs. */
  | { type: 'label-issues-cancel'; id: number };

export type TrainerRequestType = TrainerRequest['type'];
/** A request before the host numbers it. */
export type TrainerRequestBody = TrainerRequest extends infer R ? (R extends TrainerRequest ? Omit<R, 'id'> : never) : never;

// ---------------------------------------------------------------- trainer → host

export type TrainerEvent =
  | { type: 'ready'; version: number; pid: number; kernels: string; threads: number }
  | { type: 'reply'; id: number; ok: true; runId?: string; evaluation?: Evaluation; robustness?: { eps: number; accuracy: number }[]; issues?: LabelIssue[] }
  | { type: 'reply'; id: number; ok: false; error: WireError }
  | ProgressEvent
  | EpochEvent
  | SnapshotEvent
  | { type: 'status'; runId: string; status: 'running' | 'paused' }
  /** Something the person should know that does not stop the run (e.g. it goes on on one thread), in plain words. */
  | { type: 'notice'; runId: string; message: string }
  /** The run's end, in the one run-state vocabulary; `error` says why it failed or diverged. */
  | { type: 'finished'; runId: string; reason: RunEnd; error?: WireError }
  /** How far a `label-issues` request is, 0..1. */
  | { type: 'label-issues-progress'; fraction: number };

// ---------------------------------------------------------------- validators

const runId = str({ pattern: RUN_ID_PATTERN, max: 128 });
const id = int(0, Number.MAX_SAFE_INTEGER);
const path = str({ min: 1, max: 4096 });
const count = int(0, 1e9);
const MAX_PARAMS = 16_000_000;

export const wireErrorSchema: Schema<WireError> = obj<WireError>({
  name: str({ max: 200 }),
  code: str({ max: 100 }),
  message: str({ max: 20_000 }),
  stack: optional(str({ max: 50_000 })),
});

const requestSchema: Schema<TrainerRequest> = tagged<TrainerRequest>('type', {
  train: obj({ type: literal('train'), id, runId, runDir: path, datasetDir: path, resume: bool(), overlay: optional(path) }),
  pause: obj({ type: literal('pause'), id, runId }),
  resume: obj({ type: literal('resume'), id, runId }),
  cancel: obj({ type: literal('cancel'), id, runId }),
  evaluate: obj({
    type: literal('evaluate'),
    id,
    spec: json(),
    params: f32({ max: MAX_PARAMS }),
    buffers: f32({ max: MAX_PARAMS }),
    datasetDir: path,
  }),
  robustness: obj({
    type: literal('robustness'),
    id,
    spec: json(),
    params: f32({ max: MAX_PARAMS }),
    buffers: f32({ max: MAX_PARAMS }),
    datasetDir: path,
    attack: literal('fgsm', 'pgd'),
    eps: arr(num({ min: 0, max: 1 }), { max: 64 }),
    steps: int(1, 100),
    limit: int(1, 100_000_000),
  }),
  shutdown: obj({ type: literal('shutdown'), id }),
  'label-issues': obj({
    type: literal('label-issues'),
    id,
    datasetDir: path,
    cacheDir: path,
    preset: str({ min: 1, max: 100 }),
    folds: int(2, 20),
    epochs: int(1, 10_000),
    seed: int(0, 0xffffffff),
  }),
  'label-issues-cancel': obj({ type: literal('label-issues-cancel'), id }),
});

type Reply = Extract<TrainerEvent, { type: 'reply' }>;
const replyOk = obj<Extract<Reply, { ok: true }>>({
  type: literal('reply'),
  id,
  ok: literal(true),
  runId: optional(runId),
  evaluation: optional(evaluationSchema),
  robustness: optional(arr(obj<{ eps: number; accuracy: number }>({ eps: num({ min: 0, max: 1 }), accuracy: num({ min: 0, max: 1 }) }), { max: 64 })),
  issues: optional(arr(labelIssueSchema, { max: 100_000_000 })),
});
const replyErr = obj<Extract<Reply, { ok: false }>>({ type: literal('reply'), id, ok: literal(false), error: wireErrorSchema });
const replySchema: Schema<Reply> = {
  parse: (v, p) => ((v as { ok?: unknown } | null)?.ok === true ? replyOk.parse(v, p) : replyErr.parse(v, p)),
};

const eventSchema: Schema<TrainerEvent> = tagged<TrainerEvent>('type', {
  ready: obj({ type: literal('ready'), version: int(0, 1e6), pid: int(0, 1e9), kernels: str({ max: 40 }), threads: int(1, 1024) }),
  reply: replySchema,
  progress: obj<ProgressEvent>({
    type: literal('progress'),
    runId,
    epoch: int(1, 10_000),
    step: count,
    steps: count,
    loss: num(),
    imagesPerSecond: num({ min: 0 }),
    etaSeconds: num({ min: 0 }),
    lr: num({ min: 0 }),
    imagesSeen: num({ min: 0, max: 1e15, int: true }),
  }),
  epoch: obj({ type: literal('epoch'), runId, metrics: epochMetricsSchema, confusion: confusionSchema }),
  snapshot: obj({ type: literal('snapshot'), runId, epoch: int(0, 10_000), params: f32({ max: MAX_PARAMS }), buffers: f32({ max: MAX_PARAMS }) }),
  status: obj({ type: literal('status'), runId, status: literal('running', 'paused') }),
  notice: obj({ type: literal('notice'), runId, message: str({ min: 1, max: 2000 }) }),
  finished: obj({ type: literal('finished'), runId, reason: literal(...RUN_ENDS), error: optional(wireErrorSchema) }),
  'label-issues-progress': obj({ type: literal('label-issues-progress'), fraction: num({ min: 0, max: 1 }) }),
});

/** Validates a message the trainer received. Throws ValidationError naming the bad field. */
export function parseTrainerRequest(raw: unknown): TrainerRequest {
  return eventOrRequest(requestSchema, raw, 'trainer request');
}

/** Validates a message the host received from the trainer. */
export function parseTrainerEvent(raw: unknown): TrainerEvent {
  return eventOrRequest(eventSchema, raw, 'trainer event');
}

function eventOrRequest<T>(s: Schema<T>, raw: unknown, what: string): T {
  try {
    return s.parse(raw, '');
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`invalid ${what}: ${e.message}`);
    throw e;
  }
}

/** The `id` of a message that failed validation, when it has a usable one (so it can still get its reply). */
export function requestIdOf(raw: unknown): number | undefined {
  const v = (raw as { id?: unknown } | null)?.id;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

export function toWireError(e: unknown): WireError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, code: typeof code === 'string' ? code : 'ERROR', message: e.message, stack: e.stack };
  }
  return { name: 'Error', code: 'ERROR', message: String(e) };
}

/** An Error rebuilt on the receiving side, keeping name and code. */
export class RemoteError extends Error {
  override readonly name: string;
  readonly code: string;
  constructor(w: WireError) {
    super(w.message);
    this.name = w.name;
    this.code = w.code;
  }
}
