// Vitest global setup: compile the wasm kernels once if they are missing or stale.
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildWasm } from '../../scripts/build-wasm.mjs';

export default function setup(): void {
  buildWasm();
}
