// Boots the TypeScript model worker under tsx (development, tests). A bundled app starts its
// pre-built worker (out/main/model-worker.js) instead.
import { tsImport } from 'tsx/esm/api';

await tsImport('./model-worker.ts', import.meta.url);
