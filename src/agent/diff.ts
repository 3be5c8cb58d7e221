/** A small line-based unified diff, for showing an LLM what a failed proposal changed. */

const MAX_CELLS = 4_000_000;

/** Unified diff (hunks only, no file header) from `a` to `b`; "" when they are equal. */
export function unifiedDiff(a: string, b: string, context = 3): string {
  if (a === b) return '';
  const x = a.split('\n');
  const y = b.split('\n');
  const ops = diffLines(x, y);
  // Group ops into hunks with `context` unchanged lines around each change.
  const out: string[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.op === ' ') { i++; continue; }
    const start = Math.max(0, i - context);
    let end = i;
    let lastChange = i;
    while (end < ops.length && end - lastChange <= 2 * context) {
      if (ops[end]!.op !== ' ') lastChange = end;
      end++;
    }
    end = Math.min(ops.length, lastChange + context + 1);
    const hunk = ops.slice(start, end);
    const first = hunk[0]!;
    const aLen = hunk.filter((o) => o.op !== '+').length;
    const bLen = hunk.filter((o) => o.op !== '-').length;
    out.push(`@@ -${first.ai + 1},${aLen} +${first.bi + 1},${bLen} @@`);
    for (const o of hunk) out.push(o.op + o.line);
    i = end;
  }
  return out.join('\n');
}

interface Op { op: ' ' | '-' | '+'; line: string; ai: number; bi: number }

function diffLines(x: readonly string[], y: readonly string[]): Op[] {
  let pre = 0;
  while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
  let suf = 0;
  while (suf < x.length - pre && suf < y.length - pre && x[x.length - 1 - suf] === y[y.length - 1 - suf]) suf++;
  const xm = x.slice(pre, x.length - suf);
  const ym = y.slice(pre, y.length - suf);
  const ops: Op[] = [];
  for (let k = 0; k < pre; k++) ops.push({ op: ' ', line: x[k]!, ai: k, bi: k });
  const middle = xm.length * ym.length > MAX_CELLS ? replaceAll(xm, ym) : lcs(xm, ym);
  for (const o of middle) ops.push({ ...o, ai: o.ai + pre, bi: o.bi + pre });
  for (let k = 0; k < suf; k++) {
    const ai = x.length - suf + k;
    const bi = y.length - suf + k;
    ops.push({ op: ' ', line: x[ai]!, ai, bi });
  }
  return ops;
}

function replaceAll(x: readonly string[], y: readonly string[]): Op[] {
  return [
    ...x.map((line, i): Op => ({ op: '-', line, ai: i, bi: 0 })),
    ...y.map((line, j): Op => ({ op: '+', line, ai: x.length, bi: j })),
  ];
}

function lcs(x: readonly string[], y: readonly string[]): Op[] {
  const n = x.length;
  const m = y.length;
  const w = m + 1;
  const t = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      t[i * w + j] = x[i] === y[j] ? t[(i + 1) * w + j + 1]! + 1 : Math.max(t[(i + 1) * w + j]!, t[i * w + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { ops.push({ op: ' ', line: x[i]!, ai: i, bi: j }); i++; j++; }
    else if (i < n && (j === m || t[(i + 1) * w + j]! >= t[i * w + j + 1]!)) { ops.push({ op: '-', line: x[i]!, ai: i, bi: j }); i++; }
    else { ops.push({ op: '+', line: y[j]!, ai: i, bi: j }); j++; }
  }
  return ops;
}
