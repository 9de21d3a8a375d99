/**
 * Parser for challenge / credentials header values: `scheme auth-param *("," auth-param)`
 * (RFC 3261 §25.1 `challenge`, `credentials`; RFC 7235 §2.1). Untrusted input: never throws.
 */
import { textBytes } from '../message/text-bytes.js';

export interface AuthParamValue {
  /** Value with quoted-string escapes removed. */
  value: string;
  quoted: boolean;
}

export interface AuthParams {
  /** Scheme as written (compare case-insensitively, RFC 7235 §2.1). */
  scheme: string;
  /** Parameter names lowercased (RFC 7616 §3.3: names are case-insensitive). */
  params: Map<string, AuthParamValue>;
}

export type AuthParamsResult = { ok: true; value: AuthParams } | { ok: false; reason: string };

const MAX_VALUE_LENGTH = 8192;

/** RFC 3261 §25.1 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
const TOKEN_CHARS = new Uint8Array(256);
for (const c of "-.!%*_+`'~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TOKEN_CHARS[c.charCodeAt(0)] = 1;

function isWs(c: number): boolean {
  // SP, HTAB and the CR LF of folded lines (RFC 3261 §7.3.1 LWS)
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * One pass over the value with plain index arithmetic on its bytes (`textBytes`: reading a
 * Uint8Array is several times faster than String#charCodeAt), slicing values from the string.
 * `#escape` is the next backslash at or after the last quoted value, so values without
 * quoted-pairs are sliced out whole without scanning them twice.
 */
class AuthParamsReader {
  readonly #s: string;
  readonly #b: Uint8Array;
  readonly #n: number;
  #pos = 0;
  #escape: number;

  constructor(s: string) {
    this.#s = s;
    this.#b = textBytes(s);
    this.#n = s.length;
    const e = s.indexOf('\\');
    this.#escape = e < 0 ? s.length : e;
  }

  /** Skips LWS; returns the byte there (-1 at the end). */
  #skipWs(): number {
    const b = this.#b;
    const n = this.#n;
    let i = this.#pos;
    while (i < n && isWs(b[i] as number)) i++;
    this.#pos = i;
    return i < n ? (b[i] as number) : -1;
  }

  /** A token at the cursor (possibly empty). */
  #token(): string {
    const b = this.#b;
    const n = this.#n;
    const start = this.#pos;
    let i = start;
    while (i < n && TOKEN_CHARS[b[i] as number] === 1) i++;
    this.#pos = i;
    return this.#s.slice(start, i);
  }

  read(): AuthParamsResult {
    this.#skipWs();
    const scheme = this.#token();
    if (scheme === '') return { ok: false, reason: 'missing auth scheme' };
    if (this.#pos < this.#n && !isWs(this.#b[this.#pos] as number))
      return { ok: false, reason: 'bad auth scheme' };
    const params = new Map<string, AuthParamValue>();
    for (;;) {
      let c = this.#skipWs();
      while (c === 0x2c) {
        this.#pos++; // RFC 7230 §7: empty list elements are tolerated
        c = this.#skipWs();
      }
      if (c < 0) break;
      const err = this.#param(params);
      if (err !== undefined) return { ok: false, reason: err };
      c = this.#skipWs();
      if (c < 0) break;
      if (c !== 0x2c) return { ok: false, reason: `expected "," at ${this.#pos}` };
    }
    return { ok: true, value: { scheme, params } };
  }

  #param(params: Map<string, AuthParamValue>): string | undefined {
    const start = this.#pos;
    const token = this.#token();
    if (token === '') return `unexpected character at ${this.#pos}`;
    const name = this.#hasUpper(start, this.#pos) ? token.toLowerCase() : token;
    if (this.#skipWs() !== 0x3d) return `missing "=" after ${name}`;
    this.#pos++;
    let entry: AuthParamValue;
    if (this.#skipWs() === 0x22) {
      const v = this.#quoted();
      if (v === undefined) return `unterminated quoted string in ${name}`;
      entry = { value: v, quoted: true };
    } else {
      const v = this.#bare();
      if (v === '') return `empty value for ${name}`;
      entry = { value: v, quoted: false };
    }
    // RFC 7616 §3.4: each directive at most once
    if (params.has(name)) return `duplicate parameter ${name}`;
    params.set(name, entry);
    return undefined;
  }

  #hasUpper(from: number, to: number): boolean {
    const b = this.#b;
    for (let i = from; i < to; i++) {
      const c = b[i] as number;
      if (c >= 0x41 && c <= 0x5a) return true;
    }
    return false;
  }

  /** A quoted-string at the cursor (on the opening quote); undefined when unterminated. */
  #quoted(): string | undefined {
    const s = this.#s;
    const from = ++this.#pos; // opening DQUOTE
    const close = s.indexOf('"', from);
    if (close >= 0 && close - from <= MAX_VALUE_LENGTH) {
      if (this.#escape < from) {
        const e = s.indexOf('\\', from);
        this.#escape = e < 0 ? this.#n : e;
      }
      // fast path: no quoted-pair before the closing quote → one slice
      if (this.#escape > close) {
        this.#pos = close + 1;
        return s.slice(from, close);
      }
    }
    let out = '';
    let i = from;
    while (i < this.#n) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.#pos = i + 1;
        return out;
      }
      if (c === 0x5c) {
        // RFC 3261 §25.1 quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
        i++;
        if (i >= this.#n) return undefined;
      }
      out += s[i];
      i++;
      if (out.length > MAX_VALUE_LENGTH) return undefined;
    }
    return undefined;
  }

  /** Unquoted value: a token, leniently any run of characters up to ",", whitespace or a quote. */
  #bare(): string {
    const b = this.#b;
    const n = this.#n;
    const start = this.#pos;
    let i = start;
    while (i < n) {
      const c = b[i] as number;
      if (c === 0x2c || c === 0x22 || isWs(c)) break;
      i++;
    }
    this.#pos = i;
    return this.#s.slice(start, i);
  }
}

export function parseAuthParams(value: string): AuthParamsResult {
  if (typeof value !== 'string') return { ok: false, reason: 'not a string' };
  return new AuthParamsReader(value).read();
}

const NEEDS_ESCAPE = /["\\\r\n]/;

/** quoted-string with `"` and `\` escaped (RFC 3261 §25.1). CR/LF are dropped: they cannot be quoted. */
export function quoteString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return `"${s.replace(/[\r\n]/g, '').replace(/(["\\])/g, '\\$1')}"`;
}
