// The real trainer entry (src/node/trainer/entry.ts) as a Node child process, wrapped as the
// TrainerChild the host expects: what Electron's utilityProcess.fork gives main, minus Electron.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrainerChild } from '../../src/node/trainer/host';

export const TRAINER_ENTRY = fileURLToPath(new URL('../../src/node/trainer/entry.ts', import.meta.url));
export const PARENT_PORT_SHIM = fileURLToPath(new URL('./parent-port-shim.mjs', import.meta.url));

/** child_process.fork of a .ts entry with the parentPort shim; 'advanced' keeps typed arrays intact. */
export function forkWithShim(entry: string, args: string[] = []): ChildProcess {
  return fork(entry, args, {
    execArgv: ['--import', 'tsx', '--import', PARENT_PORT_SHIM],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export interface ForkedTrainer extends TrainerChild {
  process: ChildProcess;
}

export function forkTrainer(args: string[] = []): ForkedTrainer {
  const child = forkWithShim(TRAINER_ENTRY, args);
  return {
    process: child,
    pid: child.pid,
    // Like Electron's utility process, a message to a trainer that has exited is dropped quietly.
    postMessage: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (l) => {
      child.on('message', l);
    },
    onExit: (l) => {
      child.once('exit', (code, signal) => l(signal ? `killed by ${signal}` : `exit code ${code}`));
    },
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
