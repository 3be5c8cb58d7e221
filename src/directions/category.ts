/** A category for a change, from its hypothesis or the names it touches, by keyword. Hostile text only selects one of CATEGORIES. */
import type { Category } from './types.js';

/** Keywords per category, as lower-case words; earlier categories win ties ("EMBEDDING_LR" is a learning rate). */
const KEYWORDS: readonly [Category, readonly string[]][] = [
  ['learning rate', ['lr', 'lrs', 'learning']],
  ['schedule', ['warmup', 'warmdown', 'cooldown', 'schedule', 'cosine', 'anneal', 'annealing', 'wsd']],
  ['batch', ['batch', 'bs', 'accum', 'accumulation', 'microbatch', 'tokens_per_step']],
  ['depth/width', ['depth', 'layer', 'layers', 'n_layer', 'width', 'dim', 'hidden', 'embd', 'n_embd', 'mlp', 'wider', 'deeper', 'size', 'params', 'aspect']],
  ['attention', ['attention', 'attn', 'heads', 'n_head', 'rope', 'rotary', 'window', 'kv', 'qk', 'softmax', 'causal', 'gqa', 'mqa']],
  ['optimizer', ['optimizer', 'optim', 'adam', 'adamw', 'muon', 'momentum', 'beta', 'beta1', 'beta2', 'eps', 'nesterov', 'sgd', 'lion', 'newton', 'schulz']],
  ['regularisation', ['dropout', 'weight_decay', 'wd', 'decay', 'regularization', 'regularisation', 'smoothing', 'clip', 'clipping', 'grad_clip']],
  ['initialisation', ['init', 'initialization', 'initialisation', 'std', 'zero', 'scale', 'scaling']],
  ['activation', ['activation', 'relu', 'gelu', 'swiglu', 'silu', 'squared', 'glu', 'tanh']],
  ['normalisation', ['norm', 'layernorm', 'rmsnorm', 'normalization', 'normalisation', 'ln', 'qk_norm']],
  ['embedding', ['embedding', 'embeddings', 'embed', 'tie', 'tied', 'untie', 'unembedding', 'lm_head', 'logit', 'logits', 'softcap']],
];
const INDEX = new Map<string, number>();
KEYWORDS.forEach(([, words], i) => words.forEach((w) => INDEX.has(w) || INDEX.set(w, i)));

/** Longest text read: a hypothesis is at most 500 code points on the wire, a local one may be longer. */
const MAX_TEXT = 600;

/** Words of a text: split on non-letters and on `_`, lower-cased; snake pairs kept too ("weight_decay"). */
function words(text: string): string[] {
  const out: string[] = [];
  for (const token of text.slice(0, MAX_TEXT).split(/[^A-Za-z0-9_]+/)) {
    if (token === '') continue;
    const parts = token.toLowerCase().split('_').filter(Boolean);
    out.push(...parts);
    for (let i = 0; i + 1 < parts.length; i++) out.push(`${parts[i]}_${parts[i + 1]}`);
  }
  return out;
}

/** The category with the most keyword hits in `text`, or null when none hits. */
export function categoryOf(text: string): Category | null {
  const hits = new Array<number>(KEYWORDS.length).fill(0);
  for (const w of words(text)) {
    const i = INDEX.get(w);
    if (i !== undefined) hits[i]! += 1;
  }
  let best = -1;
  hits.forEach((n, i) => {
    if (n > 0 && (best < 0 || n > hits[best]!)) best = i;
  });
  return best < 0 ? null : KEYWORDS[best]![0];
}
