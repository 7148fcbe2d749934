// The real shard worker, told through its workerData (SharedSetup.fault, fault injection for tests)
// to die with an uncaught error at its 5th command: mid-epoch, after it has served four steps.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

workerData.fault = { atCommand: 5, kind: 'crash' };
await tsImport('../../../src/node/parallel/shard-worker.ts', import.meta.url);
