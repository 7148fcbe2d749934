// Per test file: activate the kernels the project asks for (LENET_KERNELS=wasm | js).
import { installKernels } from '../../src/node/kernels';

installKernels();
