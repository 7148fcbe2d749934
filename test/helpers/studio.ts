// A Studio for tests: real trainer process (forked), every dialog answering "cancel" unless a hook
// says otherwise, and the events it emits collected.

import type { StudioEvent } from '../../src/common/api';
import type { FsLayer } from '../../src/node/files';
import { Studio, type PlatformHooks } from '../../src/node/studio/studio';
import { forkTrainer } from './fork-trainer';

export interface TestStudioOptions {
  dataDir: string;
  embeddedDatasetDir: string;
  hooks?: Partial<PlatformHooks>;
  fs?: FsLayer;
  trainerArgs?: string[];
}

export function testStudio(o: TestStudioOptions): { b: Studio; events: StudioEvent[] } {
  const events: StudioEvent[] = [];
  const b = new Studio({
    dataDir: o.dataDir,
    embeddedDatasetDir: o.embeddedDatasetDir,
    app: { name: 'LeNet Studio', version: 'test', platform: 'test' },
    hooks: {
      chooseDatasetFolder: async () => null,
      chooseModelFile: async () => null,
      chooseSaveModelPath: async () => null,
      chooseExportPath: async () => null,
      ...o.hooks,
    },
    spawnTrainer: () => forkTrainer(o.trainerArgs ?? []),
    emit: (e) => events.push(e),
    ...(o.fs ? { fs: o.fs } : {}),
  });
  return { b, events };
}
