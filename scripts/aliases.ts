// The import aliases the renderer and the preload use for the other layers (tsconfig.node.json and
// tsconfig.web.json declare the same in "paths"): one table for electron-vite and both Vitest configs.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export const ALIASES: Record<string, string> = { '@common': resolve(root, 'src/common'), '@engine': resolve(root, 'src/engine') };
