// The trainer as an Electron utility process, adapted to the TrainerChild the shared host
// (src/node/trainer/host.ts) drives. Electron reports how a utility process died in two places:
// the child's 'exit' (a code) and app's 'child-process-gone' (a reason: crashed, oom, killed…);
// this folds both into one readable reason.

import { app, utilityProcess, type Details, type UtilityProcess } from 'electron';
import type { TrainerChild } from '../node/trainer/host';

export const TRAINER_SERVICE_NAME = 'LeNet Studio trainer';

/** `args`: the entry's flags (--wasm=PATH, --worker=PATH, --threads=N; see src/node/trainer/entry.ts). */
export function spawnUtilityTrainer(entry: string, args: string[]): TrainerChild {
  const child: UtilityProcess = utilityProcess.fork(entry, args, {
    serviceName: TRAINER_SERVICE_NAME,
    stdio: 'inherit',
  });
  let goneReason: string | null = null;
  const onGone = (_e: unknown, d: Details): void => {
    if (d.type === 'Utility' && d.serviceName === TRAINER_SERVICE_NAME && d.reason !== 'clean-exit') goneReason = d.reason;
  };
  app.on('child-process-gone', onGone);
  return {
    get pid() {
      return child.pid;
    },
    postMessage: (m) => child.postMessage(m),
    onMessage: (l) => {
      child.on('message', (m: unknown) => l(m));
    },
    onExit: (l) => {
      child.once('exit', (code: number) => {
        // 'child-process-gone' may arrive just after 'exit'.
        setTimeout(() => {
          app.removeListener('child-process-gone', onGone);
          l(goneReason ?? (code === 0 ? 'exited' : `exit code ${code}`));
        }, 50);
      });
    },
    kill: () => {
      child.kill();
    },
  };
}
