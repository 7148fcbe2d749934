// Boots the TypeScript shard worker under tsx (development, tests, CLI). A bundled app points
// ParallelGradients at its pre-built worker instead.
import { tsImport } from 'tsx/esm/api';

await tsImport('./shard-worker.ts', import.meta.url);
