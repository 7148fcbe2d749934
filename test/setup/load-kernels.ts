// Per test file: load the kernels the project asks for (LENET_KERNELS=wasm | js), so that a
// project whose kernels cannot load fails at once. Tests get them from testKernels()
// (test/helpers/kernels.ts).
import { installKernels } from '../../src/node/kernels';

installKernels();
