// SIP, SIPS and tel URIs: parsing, formatting and comparison (RFC 3261 §19.1, RFC 3966, RFC 5118).

import { isIPv6 } from 'node:net';
import { textBytes } from './text-bytes.js';

// (re-exported: the package entry and callers import it from here)
export { uriEquals } from './uri-equals.js';

export interface SipUri {
  scheme: 'sip' | 'sips';
  user?: string;
  password?: string;
  /** Lower-cased; IPv6 references keep their brackets ("[2001:db8::1]"). */
  host: string;
  port?: number;
  /** uri-parameters, names lower-cased, values as written (escapes kept). */
  params: Map<string, string | null>;
  /** ?headers, names and values as written (escapes kept). */
  headers: Map<string, string>;
}

export interface TelUri {
  scheme: 'tel';
  /** The telephone-subscriber's number part ("+1-201-555-0123"). */
  number: string;
  params: Map<string, string | null>;
}

export interface AbsoluteUri {
  scheme: string;
  raw: string;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

export type ParseUriResult = { ok: true; uri: Uri } | { ok: false; reason: string };

function table(chars: string): Uint8Array {
  // 256 entries: bytes above 0x7F are in no set, without a range check
  const t = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const UNRESERVED = ALNUM + "-_.!~*'()";
/** RFC 3261 §25.1 user = 1*( unreserved / escaped / user-unreserved ). */
const USER = table(UNRESERVED + '%&=+$,;?/');
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ). */
const PASSWORD = table(UNRESERVED + '%&=+$,');
/** hostname / IPv4address; "_" tolerated (seen in the wild). */
const HOST = table(ALNUM + '-._');
/** HOST bytes by case: 1 for a lower-case letter, digit, "-", "." or "_", 3 for A-Z. */
const HOST_CASE = HOST.slice();
HOST_CASE.fill(3, 65, 91);
const IPV6 = table('0123456789abcdefABCDEF:.');
/** paramchar = param-unreserved / unreserved / escaped. */
const PARAM = table(UNRESERVED + '%[]/:&+$');
/** hnv-unreserved / unreserved / escaped. */
const HNV = table(UNRESERVED + '%[]/?:+$');
const SCHEME = table(ALNUM + '+-.');
/** RFC 3966 global/local number digits and visual separators. */
const TEL = table('0123456789abcdefABCDEF*#+-.()pPwW');

// The scanners decide on bytes `b` (b[i] is s.charCodeAt(i), see textBytes) and slice from `s`.

function allIn(t: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (t[b[i] as number] !== 1) return false;
  return true;
}

const bad = (reason: string): ParseUriResult => ({ ok: false, reason });

/** Parses a URI; unknown schemes become AbsoluteUri. Never throws. */
export function parseUri(s: string): ParseUriResult {
  const plain = plainSipUri(s);
  if (plain !== undefined) return { ok: true, uri: plain };
  const r = parseUriBytes(textBytes(s), s, 0, s.length);
  return typeof r === 'string' ? bad(r) : { ok: true, uri: r };
}

/** True when the UTF-16 code unit `c` is in table `t` (bytes above 0xFF are in no table). */
function inTable(t: Uint8Array, c: number): boolean {
  return c < 256 && t[c] === 1;
}

/**
 * The common shape "sip:host[:port][;params]" (a Route or Record-Route URI: lower-case scheme, no
 * user part, no IPv6 reference, no ?headers) read from the string itself, without copying it to
 * bytes: what parseSip gives for it. Undefined for anything else, valid or not: parseSip decides.
 */
function plainSipUri(s: string): SipUri | undefined {
  const n = s.length;
  if (n < 5 || s.charCodeAt(0) !== 115 || s.charCodeAt(1) !== 105 || s.charCodeAt(2) !== 112)
    return undefined;
  if (s.charCodeAt(3) !== 58 /* : */) return undefined;
  let i = 4;
  let upper = false;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!inTable(HOST, c)) break;
    if (c >= 65 && c <= 90) upper = true;
  }
  const hostEnd = i;
  if (hostEnd === 4) return undefined;
  let port = -1;
  if (i < n && s.charCodeAt(i) === 58 /* : */) {
    const ds = ++i;
    let p = 0;
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      p = p * 10 + d;
    }
    if (i === ds || i - ds > 5 || p > 65535) return undefined;
    port = p;
  }
  const ps = i;
  while (i < n && s.charCodeAt(i) === 59 /* ; */) {
    const ns = ++i;
    while (i < n && inTable(PARAM, s.charCodeAt(i))) i++;
    if (i === ns) return undefined;
    if (i < n && s.charCodeAt(i) === 61 /* = */) {
      const vs = ++i;
      while (i < n && inTable(PARAM, s.charCodeAt(i))) i++;
      if (i === vs) return undefined;
    }
  }
  if (i !== n) return undefined;
  const uri = new ParsedSipUri('sip', s);
  uri.host = upper ? s.slice(4, hostEnd).toLowerCase() : s.slice(4, hostEnd);
  if (port >= 0) uri.port = port;
  uri.spans(ps, n, n);
  return uri;
}

/** True when b[i, i + word.length) equals the lower-case `word` ignoring ASCII case. */
function schemeIs(b: Uint8Array, i: number, len: number, word: string): boolean {
  if (len !== word.length) return false;
  for (let k = 0; k < len; k++)
    if (((b[i + k] as number) | 32) !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * @internal parseUri on s[start, end) deciding on the bytes `b` (b[i] = s.charCodeAt(i), e.g. a
 * received buffer and its latin1 text). Returns the URI or the reason it is malformed.
 */
export function parseUriBytes(b: Uint8Array, s: string, start: number, end: number): Uri | string {
  // the common "sip:" without a search for the colon
  if (b[start + 3] === 58 && ((b[start] as number) | 32) === 115 && end - start > 4)
    if (((b[start + 1] as number) | 32) === 105 && ((b[start + 2] as number) | 32) === 112)
      return parseSip(b, s, start + 4, end, 'sip');
  let colon = s.indexOf(':', start);
  if (colon >= end) colon = -1;
  if (colon <= start) return 'missing URI scheme';
  // (SCHEME chars are letters, digits, "+-.": `| 32` below only folds letters)
  if (!allIn(SCHEME, b, start, colon)) return 'bad URI scheme';
  const len = colon - start;
  if (schemeIs(b, start, len, 'sip')) return parseSip(b, s, colon + 1, end, 'sip');
  if (schemeIs(b, start, len, 'sips')) return parseSip(b, s, colon + 1, end, 'sips');
  if (schemeIs(b, start, len, 'tel')) return parseTel(b, s, colon + 1, end);
  // RFC 3261 §19.1: other schemes (absoluteURI) are carried opaquely
  for (let i = colon + 1; i < end; i++) {
    const c = b[i] as number;
    if (c <= 32 || c === 34 || c === 60 || c === 62 || c >= 127) return 'bad character in URI';
  }
  if (colon + 1 >= end) return 'empty URI';
  const raw = start === 0 && end === s.length ? s : s.slice(start, end);
  return { scheme: s.slice(start, colon).toLowerCase(), raw };
}

/**
 * A parsed SIP/SIPS URI. `params` and `headers` are built from the validated text on first access
 * (most URIs are routed on their host alone); assigning them replaces the lazy value. Spreading an
 * instance copies only its own fields: pass `params`/`headers` explicitly (`{ ...u, params: u.params,
 * headers: u.headers }`).
 */
class ParsedSipUri implements SipUri {
  scheme: 'sip' | 'sips';
  declare user?: string;
  declare password?: string;
  host = '';
  declare port?: number;
  #src: string;
  /** s[#ps, #hs): the uri-parameters from the first ";"; s[#hs, #he): the headers from "?". */
  #ps = 0;
  #hs = 0;
  #he = 0;
  #params: Map<string, string | null> | undefined = undefined;
  #headers: Map<string, string> | undefined = undefined;

  constructor(scheme: 'sip' | 'sips', src: string) {
    this.scheme = scheme;
    this.#src = src;
  }

  get params(): Map<string, string | null> {
    return (this.#params ??= buildParams(this.#src, this.#ps, this.#hs));
  }

  set params(value: Map<string, string | null>) {
    this.#params = value;
  }

  get headers(): Map<string, string> {
    return (this.#headers ??= buildHeaders(this.#src, this.#hs, this.#he));
  }

  set headers(value: Map<string, string>) {
    this.#headers = value;
  }

  /** @internal Used by parseSip: where the validated params and headers are. */
  spans(ps: number, hs: number, he: number): void {
    this.#ps = ps;
    this.#hs = hs;
    this.#he = he;
  }
}

/** uri-parameters of s[from, to) (validated by parseSip: ";name[=value]" repeated). */
function buildParams(s: string, from: number, to: number): Map<string, string | null> {
  const out = new Map<string, string | null>();
  let i = from;
  while (i < to) {
    const ns = i + 1;
    let e = s.indexOf(';', ns);
    if (e < 0 || e > to) e = to;
    const eq = s.indexOf('=', ns);
    if (eq >= 0 && eq < e) out.set(s.slice(ns, eq).toLowerCase(), s.slice(eq + 1, e));
    else out.set(s.slice(ns, e).toLowerCase(), null);
    i = e;
  }
  return out;
}

/** ?headers of s[from, to) (validated by parseSip: "?name=value" then "&name=value"). */
function buildHeaders(s: string, from: number, to: number): Map<string, string> {
  const out = new Map<string, string>();
  let i = from;
  while (i < to) {
    const ns = i + 1;
    let e = s.indexOf('&', ns);
    if (e < 0 || e > to) e = to;
    const eq = s.indexOf('=', ns);
    out.set(s.slice(ns, eq), s.slice(eq + 1, e));
    i = e;
  }
  return out;
}

/** Index of the first "@" in b[k, n), or -1 (a loop: indexOf would search past the URI). */
function firstAt(b: Uint8Array, k: number, n: number): number {
  for (let j = k; j < n; j++) if (b[j] === 64 /* @ */) return j;
  return -1;
}

/**
 * Sets the user and password of s[p, at) (the userinfo before "@"), or returns why it is
 * malformed; `plain` when the caller saw only user bytes there (no ":", nothing to check).
 */
function userinfo(
  uri: SipUri,
  b: Uint8Array,
  s: string,
  p: number,
  at: number,
  plain: boolean,
): string | undefined {
  const pc = plain ? at : s.indexOf(':', p);
  const userEnd = pc >= 0 && pc < at ? pc : at;
  if (userEnd === p) return 'empty user part';
  if (!plain && !allIn(USER, b, p, userEnd)) return 'bad character in user part';
  uri.user = s.slice(p, userEnd);
  if (userEnd < at) {
    if (!allIn(PASSWORD, b, userEnd + 1, at)) return 'bad character in password';
    uri.password = s.slice(userEnd + 1, at);
  }
  return undefined;
}

function parseSip(
  b: Uint8Array,
  s: string,
  p: number,
  n: number,
  scheme: 'sip' | 'sips',
): SipUri | string {
  const uri = new ParsedSipUri(scheme, s);
  // One pass for the usual shapes: the run of host bytes from `p`, then, unless it ends at "@",
  // the run of user bytes (a superset): "@" right after it makes [p, "@") the user part.
  let i = p;
  // (HOST_CASE: 0 no host byte, 1 host byte, 3 upper-case letter: bit 2 set means lower-case it)
  let kinds = 0;
  for (; i < n; i++) {
    const h = HOST_CASE[b[i] as number] as number;
    if (h === 0) break;
    kinds |= h;
  }
  let upper = kinds > 1;
  let k = i;
  if (k >= n || b[k] !== 64 /* @ */) while (k < n && USER[b[k] as number] === 1) k++;
  const at = k < n && b[k] === 64 ? k : firstAt(b, k, n);
  if (at >= 0) {
    const bad = userinfo(uri, b, s, p, at, at === k);
    if (bad !== undefined) return bad;
    p = at + 1;
    i = p;
    kinds = 0;
  }
  if (b[p] === 91 /* [ */ && p < n) {
    // RFC 5118 / RFC 3261 §25.1 IPv6reference = "[" IPv6address "]"
    let close = s.indexOf(']', p);
    if (close >= n) close = -1;
    if (close < 0 || !allIn(IPV6, b, p + 1, close) || !isIPv6(s.slice(p + 1, close)))
      return 'bad IPv6 reference';
    i = close + 1;
    upper = true;
  } else {
    // (without a user part the host run was read above)
    if (at >= 0) {
      for (; i < n; i++) {
        const h = HOST_CASE[b[i] as number] as number;
        if (h === 0) break;
        kinds |= h;
      }
      upper = kinds > 1;
    }
    if (i === p) return 'missing host';
  }
  uri.host = upper ? s.slice(p, i).toLowerCase() : s.slice(p, i);
  if (i < n && b[i] === 58 /* : */) {
    const ps = ++i;
    let port = 0;
    for (; i < n; i++) {
      const d = (b[i] as number) - 48;
      if (d < 0 || d > 9) break;
      port = port * 10 + d;
    }
    if (i === ps || i - ps > 5 || port > 65535) return 'bad port';
    uri.port = port;
  }
  // validated here, turned into Maps on first access (buildParams / buildHeaders)
  const ps = i;
  while (i < n && b[i] === 59 /* ; */) {
    const ns = ++i;
    while (i < n && PARAM[b[i] as number] === 1) i++;
    if (i === ns) return 'empty URI parameter';
    if (i < n && b[i] === 61 /* = */) {
      const vs = ++i;
      while (i < n && PARAM[b[i] as number] === 1) i++;
      if (i === vs) return `empty value for URI parameter "${s.slice(ns, vs - 1).toLowerCase()}"`;
    }
  }
  const hs = i;
  if (i < n && b[i] === 63 /* ? */) {
    do {
      const ns = ++i;
      while (i < n && HNV[b[i] as number] === 1) i++;
      if (i === ns || i >= n || b[i] !== 61) return 'bad URI header';
      ++i;
      while (i < n && HNV[b[i] as number] === 1) i++;
    } while (i < n && b[i] === 38 /* & */);
  }
  if (i !== n) return `unexpected character "${s.charAt(i)}" in URI`;
  uri.spans(ps, hs, i);
  return uri;
}

function parseTel(b: Uint8Array, s: string, p: number, n: number): TelUri | string {
  let semi = s.indexOf(';', p);
  if (semi >= n) semi = -1;
  const end = semi < 0 ? n : semi;
  if (end === p || !allIn(TEL, b, p, end)) return 'bad telephone number';
  const uri: TelUri = { scheme: 'tel', number: s.slice(p, end), params: new Map() };
  let i = end;
  while (i < n && b[i] === 59) {
    const ns = ++i;
    while (i < n && PARAM[b[i] as number] === 1) i++;
    if (i === ns) return 'empty tel parameter';
    const name = s.slice(ns, i).toLowerCase();
    if (i < n && b[i] === 61) {
      const vs = ++i;
      while (i < n && PARAM[b[i] as number] === 1) i++;
      uri.params.set(name, s.slice(vs, i));
    } else uri.params.set(name, null);
  }
  if (i !== n) return 'unexpected character in tel URI';
  return uri;
}

/** Serialises a URI. */
export function formatUri(u: Uri): string {
  if (isSipUri(u)) {
    let out = u.scheme + ':';
    if (u.user !== undefined) {
      out += u.user;
      if (u.password !== undefined) out += ':' + u.password;
      out += '@';
    }
    out += u.host;
    if (u.port !== undefined) out += ':' + u.port;
    for (const [k, v] of u.params) out += v === null ? ';' + k : ';' + k + '=' + v;
    let sep = '?';
    for (const [k, v] of u.headers) {
      out += sep + k + '=' + v;
      sep = '&';
    }
    return out;
  }
  if (isTelUri(u)) {
    let out = 'tel:' + u.number;
    for (const [k, v] of u.params) out += v === null ? ';' + k : ';' + k + '=' + v;
    return out;
  }
  return u.raw;
}

export function isSipUri(u: Uri): u is SipUri {
  return u.scheme === 'sip' || u.scheme === 'sips';
}

export function isTelUri(u: Uri): u is TelUri {
  return u.scheme === 'tel' && 'number' in u;
}
