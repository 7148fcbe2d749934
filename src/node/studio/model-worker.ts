// The model worker: reads and decodes one model file, or checks and encodes one model from the
// window, off the studio's event loop, so a large or hostile one never stalls the window's other
// requests. It answers one request and is then terminated by whoever started it (models.ts).

import { parentPort } from 'node:worker_threads';
import { decodeModelFileAt, encodePayload, type EncodeRequest, type ModelWorkerReply, type ModelWorkerRequest, wireError } from './models';

const port = parentPort;
if (port) {
  port.once('message', (req: ModelWorkerRequest | EncodeRequest) => {
    if ('kind' in req) {
      let reply: ModelWorkerReply;
      try {
        const bytes = encodePayload(req);
        reply = { ok: true, bytes };
        port.postMessage(reply, [bytes.buffer as ArrayBuffer]);
      } catch (e) {
        reply = { ok: false, error: wireError(e) };
        port.postMessage(reply);
      }
      return;
    }
    void decodeModelFileAt(req.path, req.importAs).then(
      (m) => {
        const reply: ModelWorkerReply = { ok: true, model: m };
        port.postMessage(reply, [m.params.buffer as ArrayBuffer, m.buffers.buffer as ArrayBuffer]);
      },
      (e: unknown) => {
        const reply: ModelWorkerReply = { ok: false, error: wireError(e) };
        port.postMessage(reply);
      },
    );
  });
}
