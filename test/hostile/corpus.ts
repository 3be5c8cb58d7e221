/**
 * The hostile corpus on disk: test/hostile/corpus/<class>-<what>.py, each an attack snippet with a
 * header, turned into a complete train.py by `assemble()`.
 *
 * A variant file holds only its attack. The line `# @honest-tail` is replaced by the baseline
 * trainer/train.py, so the attack runs first and an honest training follows (text after the marker runs
 * after the honest training, e.g. to doctor the exported model). `{{NAME}}` placeholders are filled
 * with the paths, ports and sizes of the test's world: the attacker is given the exact targets, the
 * strongest case (a real one would guess them from /etc/passwd, /proc and defaults).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CLASSES = ['escape', 'secret', 'write', 'persistence', 'sockets', 'resource', 'cheat'] as const;
export type VariantClass = (typeof CLASSES)[number];
/** honest: the run may finish, its measured val_bpb is the honest one; crash: it must not finish ok; refused: the screen should refuse it. */
export type Expect = 'refused' | 'crash' | 'honest';
export type Limit = 'memory' | 'processes' | 'disk' | 'log' | 'timeout';

export interface Variant {
  name: string;
  cls: VariantClass;
  attack: string;
  expect: Expect;
  limit: Limit | null;
  text: string;
}

export const CORPUS_DIR = join(import.meta.dirname, 'corpus');
const TAIL_MARKER = /^# @honest-tail[ \t]*$/m;

function header(text: string, key: string): string | null {
  return new RegExp(`^# ${key}:[ \\t]*(.+?)[ \\t]*$`, 'm').exec(text)?.[1] ?? null;
}

/** Reads and checks one variant file; a malformed header is a bug in the corpus, so it throws. */
export function readVariant(file: string): Variant {
  const text = readFileSync(join(CORPUS_DIR, file), 'utf8');
  const name = file.replace(/\.py$/, '');
  const cls = header(text, 'class') as VariantClass | null;
  const expect = header(text, 'expect') as Expect | null;
  const attack = header(text, 'attack');
  const limit = header(text, 'limit') as Limit | null;
  const bad = (why: string) => new Error(`corpus/${file}: ${why}`);
  if (!cls || !CLASSES.includes(cls)) throw bad(`# class: must be one of ${CLASSES.join(', ')}`);
  if (!name.startsWith(`${cls}-`)) throw bad(`the file name must start with "${cls}-"`);
  if (!attack) throw bad('no # attack: line');
  if (!expect || !['refused', 'crash', 'honest'].includes(expect)) throw bad('# expect: must be refused, crash or honest');
  if ((cls === 'resource') !== (limit !== null)) throw bad('# limit: is required for resource variants, and only for them');
  if (limit && !['memory', 'processes', 'disk', 'log', 'timeout'].includes(limit)) throw bad(`unknown # limit: ${limit}`);
  return { name, cls, attack, expect, limit, text };
}

export function loadCorpus(classes: readonly VariantClass[]): Variant[] {
  return readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.py')).sort().map(readVariant).filter((v) => classes.includes(v.cls));
}

/** The train.py a variant stands for: the honest tail spliced in at its marker, placeholders filled. */
export function assemble(variant: Variant, baseline: string, values: Readonly<Record<string, string>>): string {
  const withTail = variant.text.replace(TAIL_MARKER, () => baseline);
  return withTail.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`corpus/${variant.name}.py: unknown placeholder {{${key}}}`);
    return value;
  });
}
