// Per test file: load the kernels the project asks for (LENET_KERNELS=wasm | js), so that a
// project whose kernels cannot load fails at once. Tests build their models with them through
// testKernels() and testModels() (test/helpers/kernels.ts).
import { loadKernels } from '../../src/node/load-kernels';

loadKernels();
