/** The runner: trains one train.py under the fixed harness and classifies the run. */
export {
  pythonTrainer, isTrivialError, validateHardware, killGroup, tokenShortfall, LOG_TAIL_LINES,
  type RunRequest, type RunResult, type Trainer, type PythonTrainerInit, type Progress,
} from './trainer.js';
export { parseSummary, parseProgress } from './parse.js';
export { classify, type Observation, type Verdict } from './classify.js';
