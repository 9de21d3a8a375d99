/**
 * Parser for challenge / credentials header values: `scheme auth-param *("," auth-param)`
 * (RFC 3261 §25.1 `challenge`, `credentials`; RFC 7235 §2.1). Untrusted input: never throws.
 */

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

function isTokenChar(c: number): boolean {
  // RFC 3261 §25.1 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x21 ||
    c === 0x25 ||
    c === 0x2a ||
    c === 0x5f ||
    c === 0x2b ||
    c === 0x60 ||
    c === 0x27 ||
    c === 0x7e
  );
}

function isWs(c: number): boolean {
  // SP, HTAB and the CR LF of folded lines (RFC 3261 §7.3.1 LWS)
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

class Cursor {
  pos = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): number {
    return this.s.charCodeAt(this.pos);
  }
  skipWs(): void {
    while (!this.done && isWs(this.peek())) this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done && isTokenChar(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }
}

/** Reads a quoted-string at the cursor (on the opening quote); undefined when unterminated. */
function readQuoted(cur: Cursor): string | undefined {
  cur.pos++; // opening DQUOTE
  // fast path: no quoted-pair before the closing quote → one slice
  const close = cur.s.indexOf('"', cur.pos);
  if (close >= 0 && close - cur.pos <= MAX_VALUE_LENGTH) {
    const escape = cur.s.indexOf('\\', cur.pos);
    if (escape < 0 || escape > close) {
      const v = cur.s.slice(cur.pos, close);
      cur.pos = close + 1;
      return v;
    }
  }
  let out = '';
  while (!cur.done) {
    const c = cur.peek();
    if (c === 0x22) {
      cur.pos++;
      return out;
    }
    if (c === 0x5c) {
      // RFC 3261 §25.1 quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
      cur.pos++;
      if (cur.done) return undefined;
      out += cur.s[cur.pos];
    } else {
      out += cur.s[cur.pos];
    }
    cur.pos++;
    if (out.length > MAX_VALUE_LENGTH) return undefined;
  }
  return undefined;
}

/** Unquoted value: a token, leniently any run of characters up to ",", whitespace or a quote. */
function readBare(cur: Cursor): string {
  const start = cur.pos;
  while (!cur.done) {
    const c = cur.peek();
    if (c === 0x2c || c === 0x22 || isWs(c)) break;
    cur.pos++;
  }
  return cur.s.slice(start, cur.pos);
}

function readParam(cur: Cursor, params: Map<string, AuthParamValue>): string | undefined {
  const name = cur.token().toLowerCase();
  if (name === '') return `unexpected character at ${cur.pos}`;
  cur.skipWs();
  if (cur.peek() !== 0x3d) return `missing "=" after ${name}`;
  cur.pos++;
  cur.skipWs();
  let entry: AuthParamValue;
  if (cur.peek() === 0x22) {
    const v = readQuoted(cur);
    if (v === undefined) return `unterminated quoted string in ${name}`;
    entry = { value: v, quoted: true };
  } else {
    const v = readBare(cur);
    if (v === '') return `empty value for ${name}`;
    entry = { value: v, quoted: false };
  }
  // RFC 7616 §3.4: each directive at most once
  if (params.has(name)) return `duplicate parameter ${name}`;
  params.set(name, entry);
  return undefined;
}

export function parseAuthParams(value: string): AuthParamsResult {
  if (typeof value !== 'string') return { ok: false, reason: 'not a string' };
  const cur = new Cursor(value);
  cur.skipWs();
  const scheme = cur.token();
  if (scheme === '') return { ok: false, reason: 'missing auth scheme' };
  if (!cur.done && !isWs(cur.peek())) return { ok: false, reason: 'bad auth scheme' };
  const params = new Map<string, AuthParamValue>();
  for (;;) {
    cur.skipWs();
    while (!cur.done && cur.peek() === 0x2c) {
      cur.pos++; // RFC 7230 §7: empty list elements are tolerated
      cur.skipWs();
    }
    if (cur.done) break;
    const err = readParam(cur, params);
    if (err !== undefined) return { ok: false, reason: err };
    cur.skipWs();
    if (cur.done) break;
    if (cur.peek() !== 0x2c) return { ok: false, reason: `expected "," at ${cur.pos}` };
  }
  return { ok: true, value: { scheme, params } };
}

const NEEDS_ESCAPE = /["\\\r\n]/;

/** quoted-string with `"` and `\` escaped (RFC 3261 §25.1). CR/LF are dropped: they cannot be quoted. */
export function quoteString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return `"${s.replace(/[\r\n]/g, '').replace(/(["\\])/g, '\\$1')}"`;
}
