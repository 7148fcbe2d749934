// Transitional: the old name of load-kernels.ts.
export { compileKernels, DEFAULT_WASM_PATH, installKernels, relaxedWasmPath, type WasmVariant } from './load-kernels';
