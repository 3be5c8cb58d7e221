export { openStore, isLocked, type Store, type SharedRecord } from './store.js';
export { exportTsv, TSV_HEADER } from './tsv.js';
export { pathInside } from './paths.js';
