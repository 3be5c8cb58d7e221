/**
 * What the screen looks for in the code tokens of a train.py. Each finding has a key (what is counted:
 * an occurrence count that grows from the current train.py to the candidate is suspicious), the line it
 * is on, and a human sentence saying what and why.
 *
 * Tables, not cleverness: a reviewer should be able to read this file and see exactly what is refused.
 */
import type { Token } from './tokenize.js';

export interface Finding {
  /** What is counted, e.g. 'call:eval', 'attr:system', 'import:socket'. */
  key: string;
  line: number;
  /** e.g. `calls eval() (runs code built at run time)` */
  message: string;
}

// ---- imports -------------------------------------------------------------------------------------

/** Modules a train.py may newly import (the module itself and all its submodules). */
export const DEFAULT_ALLOWED_IMPORTS: readonly string[] = [
  'torch', 'math', 'time', 'gc', 'dataclasses', 'functools', 'itertools', 'collections', 'typing',
  'random', 'contextlib', 'copy', 'enum', 'warnings', 'statistics', 'operator', 'abc', 'numbers',
  'heapq', 'bisect', '__future__',
  // the research program's fixed modules: data loader, tokenizer, evaluate_bpb; the offline stand-in for
  // the hub kernel loader a reference train.py imports (trainer/kernels.py, PyTorch SDPA, no download)
  'prepare', 'kernels',
];

/** Allowed only when the current train.py already imports them (the baseline needs them for env/paths). */
export const CONDITIONAL_IMPORTS: readonly string[] = ['os', 'sys'];

/** Parts of allowed packages that are refused anyway, with the reason. */
const DENIED_SUBMODULES: ReadonlyArray<[string, string]> = [
  ['torch.hub', 'downloads and runs code from the internet'],
  ['torch.utils.cpp_extension', 'compiles and loads native code'],
  ['torch.distributed', 'network access is not allowed'],
  ['torch.package', 'unpickles arbitrary objects'],
  ['torch.utils.model_zoo', 'downloads files from the internet'],
  ['torch.serialization', 'unpickles arbitrary objects'],
  ['gc.get_objects', 'reaches every object in the interpreter (a way around the screen)'],
  ['gc.get_referrers', 'reaches every object in the interpreter (a way around the screen)'],
  ['gc.get_referents', 'reaches every object in the interpreter (a way around the screen)'],
  ['operator.attrgetter', 'looks attributes up by a string (a way around the screen)'],
  ['operator.methodcaller', 'calls methods by a string name (a way around the screen)'],
];

/** Why well-known modules are refused (anything else not allowed gets a generic reason). */
const MODULE_REASONS: ReadonlyArray<[string[], string]> = [
  [['socket', 'http', 'urllib', 'urllib3', 'requests', 'ftplib', 'smtplib', 'telnetlib', 'ssl', 'httpx',
    'aiohttp', 'xmlrpc', 'websocket', 'websockets', 'asyncio', 'selectors', 'socketserver', 'poplib',
    'imaplib', 'nntplib', 'paramiko', 'grpc', 'zmq'], 'network access is not allowed'],
  [['subprocess', 'pty', 'multiprocessing', 'pexpect', 'sh', 'signal', 'concurrent'], 'starting or signalling other processes is not allowed'],
  [['ctypes', 'cffi', 'mmap'], 'native code and raw memory access are not allowed'],
  [['importlib', 'imp', 'builtins', '__builtin__', 'runpy', 'code', 'codeop', 'pkgutil', 'zipimport', 'types', 'inspect', 'gc_hooks'],
    'dynamic imports and code execution are not allowed'],
  [['pickle', 'cPickle', '_pickle', 'marshal', 'dill', 'cloudpickle', 'shelve', 'joblib', 'copyreg'], 'deserialising objects can run arbitrary code'],
  [['codecs', 'encodings'], 'codecs can turn text into code the screen never saw'],
  [['shutil', 'tempfile', 'pathlib', 'glob', 'fileinput', 'io', 'zipfile', 'tarfile'], 'file system access beyond the run folder is not needed'],
];

/** Names that `from os import NAME` / `os.NAME` must not reach. */
const OS_DENIED = new Map<string, string>();
for (const n of ['system', 'popen', 'fork', 'forkpty', 'kill', 'killpg', 'posix_spawn', 'posix_spawnp', 'startfile']) OS_DENIED.set(n, 'starts or signals other processes');
for (const n of ['execl', 'execle', 'execlp', 'execlpe', 'execv', 'execve', 'execvp', 'execvpe', 'spawnl', 'spawnle', 'spawnlp', 'spawnlpe', 'spawnv', 'spawnve', 'spawnvp', 'spawnvpe']) OS_DENIED.set(n, 'starts other programs');
for (const n of ['remove', 'unlink', 'rename', 'renames', 'replace', 'rmdir', 'removedirs', 'truncate', 'chmod', 'chown', 'lchown', 'symlink', 'link', 'open', 'fdopen', 'write', 'mkfifo', 'mknod']) OS_DENIED.set(n, 'changes files outside what training needs');

const SYS_DENIED = new Map<string, string>([
  ['modules', 'rewrites the module table'],
  ['_getframe', 'reaches into interpreter frames'],
  ['settrace', 'hooks the interpreter'],
  ['setprofile', 'hooks the interpreter'],
  ['addaudithook', 'hooks the interpreter'],
  ['meta_path', 'hooks the import system'],
  ['path_hooks', 'hooks the import system'],
]);

/**
 * The harness's own single-file modules on the allowlist. A name under one of them is not a submodule but
 * whatever the file defines or imported itself: prepare.py imports subprocess and sys, kernels.py sys and
 * torch. So `from prepare import subprocess as s` or `kernels.sys.modules` is judged as the module it reaches.
 */
const HARNESS_FILES: readonly string[] = ['prepare', 'kernels'];
const KNOWN_MODULES = new Set([...CONDITIONAL_IMPORTS, ...DEFAULT_ALLOWED_IMPORTS, ...MODULE_REASONS.flatMap(([mods]) => mods),
  ...DENIED_SUBMODULES.map(([m]) => m.split('.')[0]!)].filter((m) => !HARNESS_FILES.includes(m)));

/** `prepare.sys.modules` → `sys.modules`: a dotted name through a harness file, as the module it reaches; else unchanged. */
export function throughHarness(dotted: string): string {
  const parts = dotted.split('.');
  return parts.length > 1 && HARNESS_FILES.includes(parts[0]!) && KNOWN_MODULES.has(parts[1]!) ? parts.slice(1).join('.') : dotted;
}

export function moduleVerdict(module: string, allowed: readonly string[], before: ReadonlySet<string>): string | null {
  if (throughHarness(module) !== module) return moduleVerdict(throughHarness(module), allowed, before);
  const root = module.split('.')[0]!;
  for (const [prefix, why] of DENIED_SUBMODULES) {
    if (module === prefix || module.startsWith(prefix + '.')) return why;
  }
  if (root === 'os' || root === 'sys') {
    const attr = module.split('.')[1];
    const denied = root === 'os' ? OS_DENIED : SYS_DENIED;
    if (attr !== undefined && denied.has(attr)) return denied.get(attr)!;
  }
  if (allowed.some((a) => module === a || module.startsWith(a + '.'))) return null;
  if (CONDITIONAL_IMPORTS.includes(root)) {
    return before.has(root) ? null : `"${root}" is allowed only when the current train.py already imports it`;
  }
  for (const [mods, why] of MODULE_REASONS) if (mods.includes(root)) return why;
  return 'not in the import allowlist';
}

export interface ImportItem {
  /** The module as written (`a.b`), or `a.b.c` for `from a.b import c`. */
  module: string;
  /** The key that tells a new import from an existing one. */
  key: string;
  line: number;
  /** The module named by from-import (`a.b` for `from a.b import c`); null for plain import. */
  from: string | null;
}

/**
 * Finds import statements and returns their items, plus the token indexes they cover (names inside an
 * import statement are judged by the import rule, not again by the name rules).
 */
export function findImports(tokens: Token[]): { items: ImportItem[]; covered: Set<number> } {
  const items: ImportItem[] = [];
  const covered = new Set<number>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'name' || (t.value !== 'import' && t.value !== 'from')) continue;
    if (t.value === 'from') {
      // from [.]*dotted import names  (and not `yield from x` / `raise X from Y`)
      let j = i + 1;
      let mod = '';
      while (j < tokens.length) {
        const u = tokens[j]!;
        if (u.kind === 'op' && (u.value === '.' || u.value === '...')) mod += u.value;
        else if (u.kind === 'name' && u.value !== 'import') mod += u.value;
        else break;
        j++;
      }
      const imp = tokens[j];
      if (!imp || imp.kind !== 'name' || imp.value !== 'import' || mod === '') continue;
      for (let k = i; k <= j; k++) covered.add(k);
      j++;
      const names: Array<{ name: string; line: number }> = [];
      let expectName = true;
      for (; j < tokens.length; j++) {
        const u = tokens[j]!;
        if (u.kind === 'newline') break;
        covered.add(j);
        if (u.kind === 'name' && u.value === 'as') {
          expectName = false;
          j++;
          covered.add(j);
          continue;
        }
        if (u.kind === 'op' && u.value === ',') expectName = true;
        else if (u.kind === 'op' && u.value === '*') names.push({ name: '*', line: u.line });
        else if (u.kind === 'name' && expectName) {
          names.push({ name: u.value, line: u.line });
          expectName = false;
        }
      }
      for (const n of names) {
        const module = n.name === '*' ? mod : `${mod}.${n.name}`;
        items.push({ module, key: `${mod}:${n.name}`, line: n.line, from: mod });
      }
      i = j;
      continue;
    }
    // plain import: dotted [as name] (, dotted [as name])*
    covered.add(i);
    let j = i + 1;
    let mod = '';
    let line = t.line;
    let afterAs = false;
    const flush = () => {
      if (mod !== '') items.push({ module: mod, key: mod, line, from: null });
      mod = '';
    };
    for (; j < tokens.length; j++) {
      const u = tokens[j]!;
      if (u.kind === 'newline') break;
      covered.add(j);
      if (u.kind === 'name' && u.value === 'as') afterAs = true;
      else if (u.kind === 'op' && u.value === ',') {
        flush();
        afterAs = false;
      } else if (!afterAs && (u.kind === 'name' || (u.kind === 'op' && u.value === '.'))) {
        if (mod === '') line = u.line;
        mod += u.value;
      } else if (!afterAs && u.kind === 'op' && (u.value === '(' || u.value === ')')) {
        // not valid Python, ignore
      } else if (!afterAs) {
        break;
      }
    }
    flush();
    i = j;
  }
  return { items, covered };
}

// ---- names ---------------------------------------------------------------------------------------

/** Builtins refused when called (or referenced) as a bare name: not `model.eval()`, not `torch.compile`. */
const BARE: ReadonlyMap<string, string> = new Map([
  ['eval', 'runs code built at run time'],
  ['exec', 'runs code built at run time'],
  ['compile', 'builds code objects at run time'],
  ['__import__', 'imports modules dynamically'],
  ['globals', 'reaches the module namespace (a way around the screen)'],
  ['vars', 'reaches a namespace as a dict (a way around the screen)'],
  ['locals', 'reaches a namespace as a dict (a way around the screen)'],
  ['breakpoint', 'starts a debugger hook'],
]);

/** Attribute names refused after any `.`, whatever the object (aliases such as `o = os` do not help). */
const ATTR: ReadonlyMap<string, string> = new Map([
  ...[...OS_DENIED].filter(([n]) => !['remove', 'replace', 'open', 'write', 'link', 'truncate', 'rename', 'kill'].includes(n)),
  ['rmtree', 'deletes files'],
  ['write_text', 'writes files'],
  ['write_bytes', 'writes files'],
  ['load_library', 'loads native code'],
  ['load_inline', 'compiles and loads native code'],
  ['cpp_extension', 'compiles and loads native code'],
  ['load_state_dict_from_url', 'downloads files from the internet'],
  ['download_url_to_file', 'downloads files from the internet'],
  ['hub', 'torch.hub downloads and runs code from the internet'],
  ['import_module', 'imports modules dynamically'],
  ['__import__', 'imports modules dynamically'],
  ['__builtins__', 'reaches the builtins (a way around the screen)'],
  ['__dict__', 'reaches an object\'s namespace (a way around the screen)'],
  ['__globals__', 'reaches a module namespace (a way around the screen)'],
  ['__subclasses__', 'walks the class tree (a classic sandbox escape)'],
  ['__bases__', 'walks the class tree (a classic sandbox escape)'],
  ['__base__', 'walks the class tree (a classic sandbox escape)'],
  ['__mro__', 'walks the class tree (a classic sandbox escape)'],
  ['__code__', 'rewrites code objects'],
  ['__closure__', 'reaches closure cells'],
  ['__getattribute__', 'bypasses attribute lookup'],
  ['__loader__', 'reaches the import system'],
  ['__spec__', 'reaches the import system'],
  ['__reduce__', 'customises unpickling'],
  ['__reduce_ex__', 'customises unpickling'],
  ['f_globals', 'reaches a frame\'s namespace'],
  ['f_builtins', 'reaches a frame\'s builtins'],
  ['gi_frame', 'reaches generator frames'],
  ...['f_back', 'f_locals', 'f_code', 'f_trace', 'tb_frame', 'tb_next', 'cr_frame', 'ag_frame', 'gi_code', '_getframe']
    .map((n): [string, string] => [n, 'walks interpreter frames (a way around the screen)']),
  ['serialization', 'torch.serialization unpickles arbitrary objects'],
]);

/** Dunder attributes ordinary model code uses; any other `.__x__` reaches interpreter internals. */
const SAFE_DUNDERS = new Set(['__init__', '__name__', '__qualname__', '__doc__', '__class__', '__call__', '__len__', '__iter__', '__next__', '__enter__', '__exit__', '__repr__', '__str__', '__version__', '__file__', '__module__']);

/** Names refused wherever they appear as code (bare or as an attribute). */
const ANY: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  // too generic as identifiers (or harmless as torch.multiprocessing): judged at import time only
  const skip = new Set(['code', 'types', 'inspect', 'signal', 'concurrent', 'sh', 'io', 'imp', 'mmap', 'selectors', 'http', 'ssl', 'grpc', 'multiprocessing']);
  for (const [mods, why] of MODULE_REASONS.slice(0, 5)) for (const n of mods) if (!skip.has(n)) m.set(n, why);
  m.set('shutil', 'changes files outside what training needs');
  for (const n of ['CDLL', 'cdll', 'PyDLL', 'pydll', 'ctypeslib']) m.set(n, 'native code and raw memory access are not allowed');
  for (const [sub, why] of DENIED_SUBMODULES) if (sub.startsWith('gc.') || sub.startsWith('operator.')) m.set(sub.split('.')[1]!, why);
  m.set('_getframe', 'walks interpreter frames (a way around the screen)');
  m.set('CodeType', 'builds code objects at run time');
  m.set('__builtins__', 'reaches the builtins (a way around the screen)');
  m.set('__import__', 'imports modules dynamically');
  return m;
})();

/** Dotted names refused when the chain starts with them (`os.remove(...)`, `torch.load(...)`). */
const CHAIN: ReadonlyMap<string, string> = new Map([
  ...[...OS_DENIED].map(([n, why]): [string, string] => [`os.${n}`, why]),
  ...[...SYS_DENIED].map(([n, why]): [string, string] => [`sys.${n}`, why]),
  ['torch.load', 'deserialises files (training does not need to load checkpoints)'],
  ['torch.hub', 'downloads and runs code from the internet'],
  ['torch.ops.load_library', 'loads native code'],
  ['torch.classes.load_library', 'loads native code'],
  ['torch.distributed', 'network access is not allowed'],
  ['http.client', 'network access is not allowed'],
  ['http.server', 'network access is not allowed'],
]);

/** First arguments of getattr/setattr/delattr that are refused: they reach modules the screen guards. */
const REFLECT_TARGETS = new Set(['__builtins__', 'builtins', 'os', 'sys', 'importlib', 'globals', 'vars', 'locals', 'type', 'object', 'subprocess', 'socket', 'shutil']);
const REFLECT_FUNCS = new Set(['getattr', 'setattr', 'delattr']);
const OPEN_CHAINS = new Set(['open', 'io.open', 'builtins.open', 'codecs.open', 'gzip.open', 'bz2.open', 'lzma.open']);

function isDangerousName(n: string): boolean {
  return BARE.has(n) || ATTR.has(n) || ANY.has(n) || OS_DENIED.has(n) || (n.startsWith('__') && n.endsWith('__') && n !== '__init__');
}

/**
 * Scans code tokens (outside import statements) for dangerous names, calls and dotted chains.
 * Token indexes in `skip` (import statements) are left to the import rule.
 */
export function findNames(tokens: Token[], skip: ReadonlySet<number>): Finding[] {
  const out: Finding[] = [];
  const at = (i: number): Token | undefined => tokens[i];
  const isOp = (t: Token | undefined, v: string) => t !== undefined && t.kind === 'op' && t.value === v;
  /** Attribute names already reported as part of a refused dotted chain (`os.system` is one finding, not two). */
  const inChain = new Set<number>();

  for (let i = 0; i < tokens.length; i++) {
    if (skip.has(i)) continue;
    const t = tokens[i]!;
    if (t.kind !== 'name') continue;
    const prev = at(i - 1);
    const next = at(i + 1);
    const isAttr = isOp(prev, '.');
    const isDef = prev !== undefined && prev.kind === 'name' && (prev.value === 'def' || prev.value === 'class');
    const isKwarg = isOp(next, '=');
    const n = t.value;

    if (ANY.has(n)) out.push({ key: `name:${n}`, line: t.line, message: `uses "${n}" (${ANY.get(n)})` });
    if (isAttr && ATTR.has(n) && !ANY.has(n) && !inChain.has(i)) out.push({ key: `attr:${n}`, line: t.line, message: `uses ".${n}" (${ATTR.get(n)})` });
    if (isAttr && n.startsWith('__') && n.endsWith('__') && !ATTR.has(n) && !SAFE_DUNDERS.has(n)) {
      out.push({ key: `attr:${n}`, line: t.line, message: `uses ".${n}" (interpreter internals are a way around the screen)` });
    }
    if (!isAttr && !isDef && !isKwarg && BARE.has(n) && !ANY.has(n)) {
      const call = isOp(next, '(');
      out.push({ key: `bare:${n}`, line: t.line, message: `${call ? 'calls' : 'uses'} ${n}${call ? '()' : ''} (${BARE.get(n)})` });
    }

    // dotted chains: only from their first name
    if (isAttr) continue;
    let chain = n;
    let j = i + 1;
    while (isOp(at(j), '.') && at(j + 1)?.kind === 'name') {
      chain += '.' + at(j + 1)!.value;
      j += 2;
    }
    const reached = throughHarness(chain);
    for (const [prefix, why] of CHAIN) {
      if (reached === prefix || reached.startsWith(prefix + '.')) {
        out.push({ key: `chain:${prefix}`, line: t.line, message: `uses ${prefix} (${why})` });
        for (let k = i + 2; k < j; k += 2) inChain.add(k);
        break;
      }
    }
    // the callee is the whole chain when followed by '('
    const callee = isOp(at(j), '(') ? chain : null;

    if (OPEN_CHAINS.has(chain) && !isDef && !isKwarg) {
      if (callee === null) {
        out.push({ key: `open:${chain}`, line: t.line, message: `uses ${chain} without calling it directly (its mode cannot be checked)` });
      } else {
        const args = callArgs(tokens, j);
        const mode = args.keyword.get('mode') ?? args.positional[1];
        const verdict = openModeVerdict(mode);
        if (verdict) out.push({ key: `open:${chain}`, line: t.line, message: `calls ${chain}() ${verdict}` });
      }
    }

    if (REFLECT_FUNCS.has(chain) && callee === null && !isDef && !isKwarg && !isAttr) {
      out.push({ key: `reflect:${chain}`, line: t.line, message: `uses ${chain} without calling it directly (an alias of it escapes the checks)` });
    }
    if (chain === 'type' && callee !== null && !isDef && callArgs(tokens, j).positional.length >= 2) {
      out.push({ key: 'call:type', line: t.line, message: 'calls type() with several arguments (builds a class at run time)' });
    }
    if (REFLECT_FUNCS.has(chain) && callee !== null && !isDef) {
      const args = callArgs(tokens, j);
      const target = args.positional[0];
      const attr = args.positional[1];
      const attrName = attr && attr.length === 1 && attr[0]!.kind === 'string' ? attr[0]!.value : null;
      // the first name of the target expression: `os`, `os.path`, `globals()`, `type(x)` all count
      const callTarget = target && target.length >= 1 && target[0]!.kind === 'name' ? target[0]!.value : null;
      const plain = attr !== undefined && attr.length === 1 && attr[0]!.kind === 'string' && !attr[0]!.prefix?.includes('f');
      if (!plain) {
        out.push({ key: `reflect:${chain}`, line: t.line, message: `calls ${chain}() with a computed attribute name (names built at run time are a way around the screen)` });
      }
      if (callTarget !== null && REFLECT_TARGETS.has(callTarget)) {
        out.push({ key: `reflect:${chain}`, line: t.line, message: `calls ${chain}() on "${callTarget}" (reflection on a guarded object is a way around the screen)` });
      } else if (attrName !== null && isDangerousName(attrName)) {
        out.push({ key: `reflect:${chain}`, line: t.line, message: `calls ${chain}(..., "${attrName}") (reflection on a guarded name is a way around the screen)` });
      }
    }
  }
  return out;
}

/** Arguments of the call whose '(' is at index `open`: token lists per positional argument, and keywords. */
function callArgs(tokens: Token[], open: number): { positional: Token[][]; keyword: Map<string, Token[]> } {
  const positional: Token[][] = [];
  const keyword = new Map<string, Token[]>();
  let depth = 0;
  let cur: Token[] = [];
  const flush = () => {
    if (cur.length === 0) return;
    const [a, b] = cur;
    if (a && b && a.kind === 'name' && b.kind === 'op' && b.value === '=') keyword.set(a.value, cur.slice(2));
    else positional.push(cur);
    cur = [];
  };
  for (let k = open + 1; k < tokens.length; k++) {
    const u = tokens[k]!;
    if (u.kind === 'op' && (u.value === '(' || u.value === '[' || u.value === '{')) depth++;
    if (u.kind === 'op' && (u.value === ')' || u.value === ']' || u.value === '}')) {
      if (depth === 0) break;
      depth--;
    }
    if (depth === 0 && u.kind === 'op' && u.value === ',') {
      flush();
      continue;
    }
    if (u.kind === 'newline') continue;
    cur.push(u);
  }
  flush();
  return { positional, keyword };
}

/** null when the mode is a read-only literal (or absent); otherwise why the call is refused. */
function openModeVerdict(mode: Token[] | undefined): string | null {
  if (mode === undefined || mode.length === 0) return null;
  const lit = mode.length === 1 && mode[0]!.kind === 'string' && !mode[0]!.prefix?.includes('f') ? mode[0]!.value : null;
  if (lit === null) return '(its mode is not a plain string, so it cannot be checked)';
  if (/[wax+]/.test(lit)) return `with mode "${lit}" (writing files is not allowed)`;
  return null;
}
