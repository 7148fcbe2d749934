// One ipcMain.handle per StudioApi method. Each handler first checks the sender (only our window
// may call), then the backend validates the arguments (src/node/api-schema.ts) and runs the
// method. Errors cross as messages; main logs them.

import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import type { StudioBackend } from '../node/backend';
import { STUDIO_METHODS, channel } from '../preload/channels';

export function registerIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  backend: Pick<StudioBackend, 'call'>,
  isTrustedSender: (e: IpcMainInvokeEvent) => boolean,
  log: (message: string) => void = () => undefined,
): () => void {
  for (const method of STUDIO_METHODS) {
    ipcMain.handle(channel(method), async (e: IpcMainInvokeEvent, ...args: unknown[]) => {
      if (!isTrustedSender(e)) {
        log(`refused ${method} from ${e.senderFrame?.url ?? 'an unknown frame'}`);
        throw new Error(`refused: ${method} may only be called by the LeNet Studio window`);
      }
      try {
        return await backend.call(method, args);
      } catch (err) {
        log(`${method} failed: ${(err as Error).message}`);
        throw err;
      }
    });
  }
  return () => {
    for (const method of STUDIO_METHODS) ipcMain.removeHandler(channel(method));
  };
}
