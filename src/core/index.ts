export * from './types.js';
export * from './errors.js';
export { describeDiskFault, diskError, diskFault, probedDiskError, probeDiskFault, type DiskFault } from './disk-fault.js';
export { sourceHash } from './hash.js';
export { deviceLabel, hardwareClass, hardwareLabel } from './hardware.js';
export { silentLogger, type Logger } from './log.js';
