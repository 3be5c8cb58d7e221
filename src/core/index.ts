export * from './types.js';
export * from './errors.js';
export { sourceHash } from './hash.js';
