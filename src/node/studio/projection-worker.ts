// The projection worker: one test set's embeddings projected by PCA or UMAP (projection.ts), off
// the studio's event loop, with progress messages on the way. It answers one job and is then
// terminated by whoever started it.

import { parentPort } from 'node:worker_threads';
import { EngineError } from '../../engine/errors';
import { computeProjection, type ProjectionJob, type ProjectionWorkerMessage } from './projection';
import { StudioError } from './errors';

const port = parentPort;
if (port) {
  port.once('message', (job: ProjectionJob) => {
    const send = (m: ProjectionWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
    try {
      const result = computeProjection(job, (phase, done, total) => send({ type: 'progress', phase, done, total }));
      send({ type: 'done', result }, [result.x.buffer as ArrayBuffer, result.y.buffer as ArrayBuffer, result.predictions.buffer as ArrayBuffer]);
    } catch (e) {
      const code = e instanceof StudioError ? e.code : e instanceof EngineError ? 'BAD_MODEL' : 'INTERNAL';
      const message = e instanceof EngineError ? `the model has no embedding to map: ${e.message}` : (e as Error).message;
      send({ type: 'error', code, message });
    }
  });
}
