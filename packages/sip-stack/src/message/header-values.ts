// Low-level grammar helpers shared by the header parsers (RFC 3261 §25.1): tokens, LWS,
// quoted strings, comma-separated values and ;parameters. Nothing here throws.

const SP = 32;
const HT = 9;
const DQUOTE = 34;
const BACKSLASH = 92;

function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** RFC 3261 §25.1 token. */
export const TOKEN = table(ALNUM + "-.!%*_+`'~");
/** Characters of an unquoted generic parameter value: token / host (IPv6 brackets and colons). */
export const PVALUE = table(ALNUM + "-.!%*_+`'~:[]");

export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

/** True when `s` is a non-empty RFC 3261 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

export function isWs(c: number): boolean {
  return c === SP || c === HT || c === 13 || c === 10;
}

/** Index of the first non-LWS char at or after `i`. */
export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** Index just past the closing quote of a quoted-string starting at `i` (which is '"'), or -1. */
export function quotedEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === BACKSLASH)
      j++; // RFC 3261 §25.1 quoted-pair
    else if (c === DQUOTE) return j + 1;
  }
  return -1;
}

/** Removes the quotes and quoted-pair escapes of a quoted-string; other strings unchanged. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== DQUOTE || s.charCodeAt(s.length - 1) !== DQUOTE) return s;
  const inner = s.slice(1, -1);
  return inner.indexOf('\\') < 0 ? inner : inner.replace(/\\(.)/gs, '$1');
}

/** Wraps `s` in a quoted-string, escaping '"' and '\'. */
export function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, '\\$&') + '"';
}

/**
 * End index (exclusive) of the comma-separated value starting at `from`: the first comma outside
 * quotes and angle brackets, or the string length.
 */
export function valueEnd(s: string, from: number, to: number = s.length): number {
  const comma = s.indexOf(',', from);
  if (comma < 0 || comma >= to) return to;
  // no quotes or angle brackets before the comma: it separates values
  const q = s.indexOf('"', from);
  const lt = s.indexOf('<', from);
  if ((q < 0 || q > comma) && (lt < 0 || lt > comma)) return comma;
  let angle = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 44 /* , */) {
      if (!angle) return i;
    } else if (c === DQUOTE) {
      const e = quotedEnd(s, i);
      if (e < 0 || e > to) return to;
      i = e - 1;
    } else if (c === 60 /* < */) angle = true;
    else if (c === 62 /* > */) angle = false;
  }
  return to;
}

/** Splits a header value at top-level commas (RFC 3261 §7.3.1), trimming LWS; empty parts dropped. */
export function splitValues(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start <= s.length) {
    const end = valueEnd(s, start);
    const part = s.slice(start, end).trim();
    if (part.length > 0) out.push(part);
    start = end + 1;
  }
  return out;
}

/**
 * Parses `*( SWS ";" SWS name [ SWS "=" SWS value ] )` from `i` to the end of `s` into `out`
 * (names lower-cased, values kept as written, quoted strings with their quotes).
 * Returns null on success or a reason.
 */
export function parseParams(s: string, i: number, out: Map<string, string | null>): string | null {
  const n = s.length;
  for (;;) {
    i = skipWs(s, i);
    if (i >= n) return null;
    if (s.charCodeAt(i) !== 59 /* ; */) return 'expected ";" before parameter';
    i = skipWs(s, i + 1);
    const ns = i;
    while (i < n && isTokenChar(s.charCodeAt(i))) i++;
    if (i === ns) return 'empty parameter name';
    const name = lowerSlice(s, ns, i);
    i = skipWs(s, i);
    if (i < n && s.charCodeAt(i) === 61 /* = */) {
      i = skipWs(s, i + 1);
      const vs = i;
      if (i < n && s.charCodeAt(i) === DQUOTE) {
        const e = quotedEnd(s, i);
        if (e < 0) return 'unterminated quoted string in parameter';
        i = e;
      } else {
        while (i < n) {
          const c = s.charCodeAt(i);
          if (c >= 128 || PVALUE[c] !== 1) break;
          i++;
        }
      }
      if (i === vs) return `empty value for parameter "${name}"`;
      out.set(name, s.slice(vs, i));
    } else {
      out.set(name, null);
    }
  }
}

/** `s.slice(start, end)` lower-cased, without a second allocation when already lower-case. */
export function lowerSlice(s: string, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.slice(start, end).toLowerCase();
  }
  return s.slice(start, end);
}

/** Formats a parameter map as ";name=value;flag". */
export function formatParams(params: ReadonlyMap<string, string | null>): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? ';' + k : ';' + k + '=' + v;
  return out;
}

/** Strict non-negative decimal integer (only digits, at most 10), or -1. */
export function parseDecimal(s: string): number {
  if (s.length === 0 || s.length > 10) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
