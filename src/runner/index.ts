/** The runner: trains one train.py under the fixed harness and classifies the run. */
export {
  pythonTrainer, isTrivialError, validateHardware, tokenShortfall, LOG_TAIL_LINES,
  type RunRequest, type RunResult, type Trainer, type PythonTrainerInit, type Progress,
} from './trainer.js';
export { parseSummary, parseProgress } from './parse.js';
export { classify, type Observation, type Verdict } from './classify.js';
export { killGroup } from './process.js';
export { MAX_LOG_BYTES } from './log.js';
export { EXPORT_FOLDER } from './harness.js';
export { DATA_MOUNT, type DataManifest } from './data.js';
