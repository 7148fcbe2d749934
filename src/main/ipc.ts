// One ipcMain.handle per StudioApi method. Each handler first checks the sender (only our window
// may call), then the studio validates the arguments (src/common/api-schema.ts) and runs the
// method. Errors cross as messages; main logs them.

import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import type { Studio } from '../node/studio/studio';
import { STUDIO_METHODS, channel } from '../common/channels';

export function registerIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  studio: Pick<Studio, 'call'>,
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
        return await studio.call(method, args);
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
