/**
 * A small Python tokenizer, written for the static screen (pure TypeScript: no Python process is
 * started, so screening a patch costs well under a millisecond per kilobyte).
 *
 * It is not a full implementation of Python's grammar. It only needs to tell code apart from
 * comments and string literals, and to give names, operators and literals with their line numbers:
 *
 * - comments (`# ...`) are dropped;
 * - string literals (any prefix of r/b/u/f/t, single or triple quoted) become one `string` token
 *   holding their raw text, so a word inside a string is never mistaken for code;
 * - the `{...}` replacement fields of f-strings (and t-strings) ARE code, so they are tokenized
 *   recursively and their tokens are emitted like any other code;
 * - identifiers are NFKC-normalised, as Python does, so `ｅｖａｌ` is seen as `eval`;
 * - a `newline` token ends each logical line (not inside brackets, not after a backslash).
 *
 * Anything the tokenizer does not recognise becomes a one-character `op` token: the screen must never
 * throw on hostile input, and Python itself will refuse a file that does not parse.
 */

export type TokenKind = 'name' | 'string' | 'number' | 'op' | 'newline';

export interface Token {
  kind: TokenKind;
  /** names: NFKC-normalised identifier; strings: the literal's body without prefix and quotes. */
  value: string;
  /** 1-based line where the token starts. */
  line: number;
  /** For strings: the prefix letters, lower-cased (e.g. 'rb', 'f'). */
  prefix?: string;
}

const ID_START = /[\p{ID_Start}_]/u;
const ID_REST = /[\p{ID_Continue}\u00B7\u0387\u1369-\u1371\u19DA]*/uy;
const NUMBER = /(?:0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)/y;
const OPS = [
  '...', '**=', '//=', '>>=', '<<=', '->', ':=', '==', '!=', '<=', '>=', '**', '//', '<<', '>>',
  '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@=',
];
const STRING_PREFIX = /^(?:[rRbBuUfFtT]{1,2})$/;

interface State {
  src: string;
  pos: number;
  line: number;
  out: Token[];
}

export function tokenize(src: string): Token[] {
  const st: State = { src, pos: 0, line: 1, out: [] };
  scan(st, false);
  return st.out;
}

/**
 * Scans code. With `inField` (inside an f-string's replacement field) it stops, without consuming it,
 * at the `}` that closes the field (a `}` at bracket depth 0) and returns true when it found one.
 */
function scan(st: State, inField: boolean): boolean {
  const { src } = st;
  let depth = 0;
  let continued = false;
  while (st.pos < src.length) {
    const c = src[st.pos]!;
    if (c === '\n') {
      if (!inField && depth === 0 && !continued) push(st, 'newline', '\n');
      continued = false;
      st.line++;
      st.pos++;
      continue;
    }
    continued = false;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      st.pos++;
      continue;
    }
    if (c === '\\' && (src[st.pos + 1] === '\n' || (src[st.pos + 1] === '\r' && src[st.pos + 2] === '\n'))) {
      st.pos += src[st.pos + 1] === '\n' ? 1 : 2;
      continued = true;
      continue;
    }
    if (c === '#') {
      const nl = src.indexOf('\n', st.pos);
      st.pos = nl === -1 ? src.length : nl;
      continue;
    }
    if (c === '"' || c === "'") {
      readString(st, '');
      continue;
    }
    if (ID_START.test(c) || c.charCodeAt(0) > 0x7f) {
      const start = st.pos;
      const cp = src.codePointAt(st.pos)!;
      const first = String.fromCodePoint(cp);
      if (!ID_START.test(first)) {
        // not an identifier character (e.g. a stray symbol); keep going one code point at a time
        st.pos += first.length;
        push(st, 'op', first);
        continue;
      }
      ID_REST.lastIndex = st.pos + first.length;
      const m = ID_REST.exec(src);
      const end = m ? ID_REST.lastIndex : st.pos + first.length;
      const word = src.slice(start, end);
      const q = src[end];
      if ((q === '"' || q === "'") && STRING_PREFIX.test(word)) {
        st.pos = end;
        readString(st, word.toLowerCase());
        continue;
      }
      st.pos = end;
      push(st, 'name', word.normalize('NFKC'));
      continue;
    }
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(src[st.pos + 1] ?? ''))) {
      NUMBER.lastIndex = st.pos;
      const m = NUMBER.exec(src);
      const end = m && NUMBER.lastIndex > st.pos ? NUMBER.lastIndex : st.pos + 1;
      push(st, 'number', src.slice(st.pos, end));
      st.pos = end;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      depth++;
      push(st, 'op', c);
      st.pos++;
      continue;
    }
    if (c === ')' || c === ']' || c === '}') {
      if (inField && depth === 0 && c === '}') return true;
      if (depth > 0) depth--;
      push(st, 'op', c);
      st.pos++;
      continue;
    }
    if (c === ';' && !inField && depth === 0) {
      push(st, 'newline', ';');
      st.pos++;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, st.pos)) ?? c;
    push(st, 'op', op);
    st.pos += op.length;
  }
  return false;
}

function push(st: State, kind: TokenKind, value: string, prefix?: string, line = st.line): void {
  const t: Token = { kind, value, line };
  if (prefix !== undefined) t.prefix = prefix;
  st.out.push(t);
}

/** Reads a string literal starting at st.pos (the opening quote). f/t-strings yield their fields as code. */
function readString(st: State, prefix: string): void {
  const { src } = st;
  const q = src[st.pos]!;
  const triple = src.startsWith(q + q + q, st.pos);
  const close = triple ? q + q + q : q;
  const raw = prefix.includes('r');
  const formatted = prefix.includes('f') || prefix.includes('t');
  const line = st.line;
  st.pos += close.length;
  let body = '';
  while (st.pos < src.length) {
    const c = src[st.pos]!;
    if (src.startsWith(close, st.pos)) {
      st.pos += close.length;
      push(st, 'string', body, prefix, line);
      return;
    }
    if (c === '\n') {
      if (!triple) break; // unterminated single-quoted string: end it at the line break
      st.line++;
      body += c;
      st.pos++;
      continue;
    }
    if (c === '\\') {
      // In raw strings a backslash still keeps the next quote from closing the literal.
      const next = src[st.pos + 1];
      if (next === '\n') st.line++;
      body += raw ? c + (next ?? '') : next ?? '';
      st.pos += 2;
      continue;
    }
    if (formatted && c === '{') {
      if (src[st.pos + 1] === '{') {
        body += '{';
        st.pos += 2;
        continue;
      }
      st.pos++;
      // The replacement field is code; a nested field in its format spec is handled by recursion.
      scanField(st);
      continue;
    }
    if (formatted && c === '}' && src[st.pos + 1] === '}') {
      body += '}';
      st.pos += 2;
      continue;
    }
    body += c;
    st.pos++;
  }
  push(st, 'string', body, prefix, line);
}

function scanField(st: State): void {
  const found = scan(st, true);
  if (found) st.pos++; // the closing brace
}
