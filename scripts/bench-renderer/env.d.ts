// Vite's inline asset import, as the renderer's lib/renderer-kernels.ts uses it (the node tsconfig that
// checks scripts/ does not load vite/client).
declare module '*?url&inline' {
  const dataUrl: string;
  export default dataUrl;
}
