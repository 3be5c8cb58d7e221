/** The runner: trains one train.py in the fence, has the harness measure its model, and classifies the run. */
export {
  pythonTrainer, isTrivialError, validateHardware, tokenShortfall, LOG_TAIL_LINES,
  type RunRequest, type RunResult, type Trainer, type PythonTrainerInit, type Progress,
} from './trainer.js';
export { parseSummary, parseProgress, parseFailLine, summaryFields, BARE_FAIL_REASON } from './parse.js';
export { screenLines, LineSplitter } from './lines.js';
export { classify, type Observation, type Verdict } from './classify.js';
export { killGroup } from './process.js';
