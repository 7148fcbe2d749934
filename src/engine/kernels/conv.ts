// Transitional: spec.ts's import of convOutSize, which lives in types.ts.
export { convOutSize, type ConvGeometry } from './types';
