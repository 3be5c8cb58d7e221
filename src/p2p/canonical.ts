/**
 * Canonical JSON (the subset of RFC 8785 / JCS our records use): object keys sorted by UTF-16
 * code units, no whitespace, strings and numbers serialised exactly as ECMAScript's
 * JSON.stringify does. Records carry only strings, finite numbers, booleans, null, arrays and
 * plain objects; anything else is refused rather than silently dropped.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new TypeError('canonicalJson: not a plain object');
      const obj = value as Record<string, unknown>;
      // Built as a string (never as a new object) so a key such as "__proto__" stays an ordinary key.
      const parts: string[] = [];
      for (const key of Object.keys(obj).sort()) {
        const v = obj[key];
        if (v === undefined) throw new TypeError(`canonicalJson: undefined value at key ${JSON.stringify(key)}`);
        parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: unsupported ${typeof value}`);
  }
}
