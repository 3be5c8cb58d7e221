/**
 * prepare.py and kernels.py are on the import allowlist, but they are single files that import
 * subprocess, os and sys themselves: a candidate must not reach those through them (an alias in an
 * import statement, or a dotted chain) where importing them directly is refused.
 */
import { describe, expect, it } from 'vitest';
import { screenPatch } from '../../src/screen/index.js';

const BEFORE = 'import torch\nfrom prepare import Tokenizer\nx = 1\n';
const screen = (added: string) => screenPatch({ files: ['train.py'], diff: '', before: BEFORE, after: `${BEFORE}${added}\n` });

describe('screen: modules reached through the harness files', () => {
  it.each([
    ['from prepare import subprocess as s\ns.run(["id"])', /subprocess/],
    ['from kernels import sys as q\nq.settrace(None)', /"sys" is allowed only when the current train.py already imports it/],
    ['from prepare import os as o\no.environ', /"os" is allowed only/],
    ['import kernels\nm = kernels.sys.modules', /sys\.modules/],
    ['import prepare\nprepare.os.unlink("x")', /os\.unlink/],
  ])('refuses %j', (code, why) => {
    const r = screen(code);
    expect(r.ok).toBe(false);
    if (why) expect(r.reasons.join('\n')).toMatch(why);
  });

  it('lets a reference train.py import what the harness offers', () => {
    const r = screen('from prepare import MAX_SEQ_LEN, TIME_BUDGET, make_dataloader, evaluate_bpb\nfrom kernels import get_kernel\nimport kernels\nfa3 = get_kernel("varunneal/flash-attention-3").flash_attn_interface\ny = kernels.flash_attn_func');
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
  });
});
