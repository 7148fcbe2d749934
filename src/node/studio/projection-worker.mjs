// Boots the TypeScript projection worker under tsx (development, tests). A bundled app starts its
// pre-built worker (out/main/projection-worker.js) instead.
import { tsImport } from 'tsx/esm/api';

await tsImport('./projection-worker.ts', import.meta.url);
