/**
 * Ways a train.py can read one way to the screen (and to a person at a terminal) and another way to
 * Python: these are refused outright, before any token is looked at.
 */

/** PEP 263: a comment on line 1 or 2 naming the source encoding. */
const CODING = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;
const UTF8 = new Set(['utf-8', 'utf8', 'utf_8', 'u8', 'utf', 'cp65001']);
/** Bidi controls (Trojan Source) and other invisible format characters that reorder or hide text. */
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

/** `line N: ...` reasons for text whose meaning to Python differs from what the screen reads, or []. */
export function textProblems(source: string): string[] {
  const out: string[] = [];
  const lines = source.split('\n');
  lines.slice(0, 2).forEach((l, i) => {
    const m = CODING.exec(l);
    if (m && !UTF8.has(m[1]!.toLowerCase().replace(/^utf-8-.*/, 'utf-8'))) {
      out.push(`line ${i + 1}: declares the source encoding "${m[1]}" (only UTF-8: Python would decode other code than the screen reads)`);
    }
  });
  lines.forEach((l, i) => {
    // Python ends a line at a lone \r; a terminal shows the rest over it, and the screen would read it as one line.
    if (/\r(?!$)/.test(l)) out.push(`line ${i + 1}: holds a carriage return inside the line (Python reads a new line there; a terminal hides it)`);
    if (INVISIBLE.test(l)) out.push(`line ${i + 1}: holds an invisible or bidi control character (text that shows differently from how Python reads it)`);
  });
  return out;
}
