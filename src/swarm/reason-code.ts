import type { ExperimentRecord } from '../core/index.js';
import type { ReasonCode } from '../p2p/index.js';

/**
 * Python's built-in exceptions and torch's own: the only class names a published reason names.
 * A class name is chosen by the code under test (`type(secret, (Exception,), {})`), so an unknown
 * one could carry a secret; it is published as plain `exception`.
 */
const KNOWN_EXCEPTIONS = new Set([
  'ArithmeticError', 'AssertionError', 'AttributeError', 'BufferError', 'EOFError', 'Exception', 'FileExistsError',
  'FileNotFoundError', 'FloatingPointError', 'ImportError', 'IndentationError', 'IndexError', 'IsADirectoryError',
  'KeyError', 'KeyboardInterrupt', 'LookupError', 'MemoryError', 'ModuleNotFoundError', 'NameError',
  'NotADirectoryError', 'NotImplementedError', 'OSError', 'OverflowError', 'PermissionError', 'RecursionError',
  'ReferenceError', 'RuntimeError', 'StopIteration', 'SyntaxError', 'SystemError', 'TabError', 'TimeoutError',
  'TypeError', 'UnboundLocalError', 'UnicodeDecodeError', 'UnicodeEncodeError', 'UnicodeError', 'ValueError',
  'ZeroDivisionError', 'torch.OutOfMemoryError', 'torch.cuda.OutOfMemoryError', 'torch.AcceleratorError',
  'torch._dynamo.exc.BackendCompilerFailed', 'torch._dynamo.exc.Unsupported', 'torch.fx.experimental.symbolic_shapes.GuardOnDataDependentSymNode',
]);

/** The runner's and judge's local reasons, most specific first: what each says, and its code. */
const RULES: ReadonlyArray<[RegExp, ReasonCode]> = [
  [/^timed out\b/, 'timeout'],
  [/\bmemory limit\b/i, 'limit:memory'],
  [/\bprocess(?:es|-count)? limit\b|\bpids? limit\b/i, 'limit:processes'],
  [/\bdisk limit\b|\brun folder (?:grew past|holds more than)\b/i, 'limit:disk'],
  [/\blog limit\b|\blog .*over\b.*\blimit\b/i, 'limit:log'],
  [/out of memory/i, 'oom'],
  [/diverged/, 'diverged'],
  [/^interrupted \d+ times/, 'interrupted'],
  [/summary block/, 'no-summary'],
  [/^killed by signal/, 'killed'],
  [/\bevaluat(?:e|ion)\b.*\b(?:failed|cannot|could not)\b|\bharness\b/i, 'eval'],
  [/^a win inside the noise/, 'inside-noise'],
  [/did not beat the best/, 'not-better'],
];

/**
 * The reason a finished run is published with: a code from a fixed table, derived from the full
 * local reason (which stays in the local record). Nothing of the run's own text is carried over,
 * except a well-known exception class name.
 */
export function publishedReason(record: Pick<ExperimentRecord, 'status' | 'reason'>): ReasonCode | null {
  if (record.status === 'keep') return null;
  const reason = record.reason ?? '';
  for (const [re, code] of RULES) if (re.test(reason)) return code;
  const exit = /^exit code \d+(?::\s*(.*))?$/s.exec(reason);
  if (exit) return exceptionCode(exit[1]);
  return record.status === 'discard' ? 'not-better' : 'crash';
}

/** `exception:<Class>` for a well-known class on the exception line, `exception` for another, `exit` for none. */
function exceptionCode(line: string | undefined): ReasonCode {
  const m = /^([A-Za-z_][A-Za-z0-9_.]{0,63})(?::|$)/.exec(line?.trim() ?? '');
  if (!m) return 'exit';
  return KNOWN_EXCEPTIONS.has(m[1]!) ? `exception:${m[1]!}` : 'exception';
}
