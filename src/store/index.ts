export { openStore, isLocked, type Store } from './store.js';
export { exportTsv, TSV_HEADER } from './tsv.js';
