/**
 * Attack: variants that passed the screen once (names built from strings, aliases, namespace and frame
 * walking, gc, numpy's ctypes, operator's getters, import machinery, pickle/marshal, codecs and source
 * encodings, exec/compile, and text that reads differently on a terminal than Python reads it). Each is
 * a patch of the real baseline trainer/train.py; each must be refused with a reason, while the baseline
 * itself and honest edits still pass. The screen is an early refusal, not the box's protection.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { screenPatch } from '../../src/screen/index.js';

const BASE = readFileSync(join(import.meta.dirname, '..', '..', 'trainer', 'train.py'), 'utf8');
const repo = mkdtempSync(join(tmpdir(), 'swarm-evasion-'));
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'core.autocrlf=false', ...args], { cwd: repo, encoding: 'utf8' });
git('init', '-q');
afterAll(() => rmSync(repo, { recursive: true, force: true }));

function screen(after: string) {
  writeFileSync(join(repo, 'train.py'), BASE);
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', 'base');
  writeFileSync(join(repo, 'train.py'), after);
  return screenPatch({ files: ['train.py'], diff: git('diff', '--', 'train.py'), before: BASE, after });
}

/** The baseline with `code` added after its imports (at module level). */
const withCode = (code: string): string => {
  const at = BASE.indexOf('\n\n', BASE.lastIndexOf('\nimport ') + 1);
  return `${BASE.slice(0, at)}\n${code}\n${BASE.slice(at)}`;
};

const EVASIONS: [string, string][] = [
  ['getattr with a name built from strings', "f = getattr(__builtins__, 'ev' + 'al')"],
  ['getattr on a module with a computed name', "load = getattr(torch, 'lo' + 'ad')"],
  ['getattr with implicitly joined strings', "g = getattr(math, '__glo' 'bals__')"],
  ['getattr with a name from a variable', "n = 'system'\nf = getattr(os, n)"],
  ['__import__', "m = __import__('sock' + 'et')"],
  ['an alias of eval', 'e = eval'],
  ['an alias of exec through a tuple', 'x, y = exec, print'],
  ['builtins through a dunder of a function', 'b = print.__self__'],
  ['vars()', "v = vars(torch)['lo' + 'ad']"],
  ['locals()', 'l = locals()'],
  ['globals()', "g = globals()['__builtins__']"],
  ['sys._getframe', 'f = sys._getframe(0)'],
  ['an alias of sys with _getframe', 's = sys\nf = s._getframe()'],
  ['frame walking: f_back', 'def h():\n    return h.x.f_back'],
  ['frame walking: f_globals', 'def h(fr):\n    return fr.f_globals'],
  ['frame walking: f_locals', 'def h(fr):\n    return fr.f_locals'],
  ['frame walking: tb_frame', 'try:\n    1 / 0\nexcept Exception as e:\n    fr = e.__traceback__.tb_frame'],
  ['inspect', 'import inspect'],
  ['gc.get_objects', 'import gc\nobjs = gc.get_objects()'],
  ['gc.get_referrers', 'import gc\nr = gc.get_referrers(torch)'],
  ['gc.get_referents', 'import gc\nr = gc.get_referents(torch)'],
  ['numpy ctypeslib', 'p = torch.zeros(1).numpy().ctypes.data'],
  ['np.ctypeslib', 'import numpy as np\nq = np.ctypeslib.as_array'],
  ['operator.attrgetter', "import operator\ng = operator.attrgetter('__globals__')"],
  ['from operator import methodcaller', "from operator import methodcaller\nm = methodcaller('system', 'id')"],
  ['importlib', "import importlib\nimportlib.import_module('socket')"],
  ['importlib via sys.modules', "il = sys.modules['importlib']"],
  ['pickle', 'import pickle'],
  ['marshal', 'import marshal'],
  ['torch.serialization', "torch.serialization.load('x')"],
  ['codecs', "import codecs\ncodecs.decode('riny', 'rot13')"],
  ['a source encoding declaration', null as unknown as string],
  ['exec', "exec('print(1)')"],
  ['compile', "c = compile('1', 'x', 'eval')"],
  ['a code object', 'c = (lambda: 0).__code__'],
  ['a lone carriage return hiding a line', 'LR_SCALE = 1.0  # tuned\rimport socket'],
  ['a fullwidth name Python folds to eval', "ｅｖａｌ('1')"],
  ['a bidi override in a comment', 'x = 1  # \u202e harmless'],
  ['type() building a class from strings', "T = type('T', (object,), {})"],
  ['the class tree', 'subs = object.__subclasses__()'],
  ['builtins module', 'import builtins'],
];

describe('the screen refuses the evasions that once passed it', () => {
  it.each(EVASIONS.filter(([, code]) => code !== null))('%s', (_, code) => {
    const r = screen(withCode(code));
    expect(r.ok, r.reasons.join('\n')).toBe(false);
    expect(r.reasons.length).toBeGreaterThan(0);
  });

  it('a source encoding declaration other than UTF-8 (Python would read other code than the screen)', () => {
    for (const coding of ['# -*- coding: utf-7 -*-', '# coding=unicode_escape', '# vim: set fileencoding=rot13 :']) {
      const r = screen(`${coding}\n${BASE}`);
      expect(r.ok, coding).toBe(false);
      expect(r.reasons.join('\n')).toMatch(/encoding/);
    }
    expect(screen(`# -*- coding: utf-8 -*-\n${BASE}`).ok).toBe(true);
  });
});

describe('honest code still passes', () => {
  it('the baseline trainer, unchanged and with honest edits', () => {
    expect(screen(BASE)).toEqual({ ok: true, reasons: [] });
    expect(screen(BASE.replace(/^DEPTH = \d+/m, 'DEPTH = 6')).ok).toBe(true);
    expect(screen(withCode('import gc\ngc.collect()\ngc.disable()\nimport operator\nadd = operator.add')).ok).toBe(true);
    expect(screen(withCode('def f(model):\n    return getattr(model, "weight", None)')).ok).toBe(true);
    expect(screen(withCode("class Norm(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.name = type(self).__name__")).ok).toBe(true);
  });
});

describe('honest mutator outputs pass', () => {
  it('200 proposals of the built-in mutator over the baseline, each screened as a peer patch would be', async () => {
    const { mutateProposer } = await import('../../src/agent/index.js');
    const { unifiedDiff } = await import('../../src/agent/diff.js');
    const proposer = mutateProposer({ seed: 11 });
    for (let i = 0; i < 200; i++) {
      const p = await proposer.propose({ program: '', source: BASE, history: [], tried: new Set() });
      const diff = `diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n${unifiedDiff(BASE, p.source)}`;
      const r = screenPatch({ files: ['train.py'], diff, before: BASE, after: p.source });
      expect(r, p.hypothesis).toEqual({ ok: true, reasons: [] });
    }
  });
});
