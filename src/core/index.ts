export * from './types.js';
export * from './errors.js';
export { sourceHash } from './hash.js';
export { silentLogger, type Logger } from './log.js';
