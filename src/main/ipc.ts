// One ipcMain.handle per StudioApi method. Each handler first checks the sender (only our window
// may call), then the studio validates the arguments (src/common/api-schema.ts) and runs the
// method within its bound on calls at once (src/node/studio/limits.ts). Errors cross as messages;
// main logs them, calls refused as busy at most once per method every few seconds (a flood of
// them would otherwise flood the log too).

import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import type { Studio } from '../node/studio/studio';
import { STUDIO_METHODS, channel } from '../common/channels';

const BUSY_LOG_QUIET_MS = 5000;

export function registerIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  studio: Pick<Studio, 'call'>,
  isTrustedSender: (e: IpcMainInvokeEvent) => boolean,
  log: (message: string) => void = () => undefined,
): () => void {
  /** Per method: busy refusals are logged again after this time; how many were not logged meanwhile. */
  const busy = new Map<string, { quietUntil: number; unlogged: number }>();
  const logFailure = (method: string, err: unknown): void => {
    const message = `${method} failed: ${(err as Error).message}`;
    if ((err as { code?: unknown } | null)?.code !== 'BUSY') return log(message);
    const now = Date.now();
    const b = busy.get(method);
    if (b && now < b.quietUntil) {
      b.unlogged++;
      return;
    }
    log(b?.unlogged ? `${message} (and ${b.unlogged} more refused before)` : message);
    busy.set(method, { quietUntil: now + BUSY_LOG_QUIET_MS, unlogged: 0 });
  };
  for (const method of STUDIO_METHODS) {
    ipcMain.handle(channel(method), async (e: IpcMainInvokeEvent, ...args: unknown[]) => {
      if (!isTrustedSender(e)) {
        log(`refused ${method} from ${e.senderFrame?.url ?? 'an unknown frame'}`);
        throw new Error(`refused: ${method} may only be called by the LeNet Studio window`);
      }
      try {
        return await studio.call(method, args);
      } catch (err) {
        logFailure(method, err);
        throw err;
      }
    });
  }
  return () => {
    for (const method of STUDIO_METHODS) ipcMain.removeHandler(channel(method));
  };
}
