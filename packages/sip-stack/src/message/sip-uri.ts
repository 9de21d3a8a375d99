// SIP, SIPS and tel URIs: parsing, formatting and comparison (RFC 3261 §19.1, RFC 3966, RFC 5118).

import { isIPv6 } from 'node:net';

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
  const t = new Uint8Array(128);
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
const IPV6 = table('0123456789abcdefABCDEF:.');
/** paramchar = param-unreserved / unreserved / escaped. */
const PARAM = table(UNRESERVED + '%[]/:&+$');
/** hnv-unreserved / unreserved / escaped. */
const HNV = table(UNRESERVED + '%[]/?:+$');
const SCHEME = table(ALNUM + '+-.');
/** RFC 3966 global/local number digits and visual separators. */
const TEL = table('0123456789abcdefABCDEF*#+-.()pPwW');

function allIn(t: Uint8Array, s: string, from = 0, to = s.length): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] !== 1) return false;
  }
  return true;
}

const bad = (reason: string): ParseUriResult => ({ ok: false, reason });

/** Parses a URI; unknown schemes become AbsoluteUri. Never throws. */
export function parseUri(s: string): ParseUriResult {
  const colon = s.indexOf(':');
  if (colon <= 0) return bad('missing URI scheme');
  if (!allIn(SCHEME, s, 0, colon)) return bad('bad URI scheme');
  const scheme = s.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSip(s, colon + 1, scheme);
  if (scheme === 'tel') return parseTel(s, colon + 1);
  // RFC 3261 §19.1: other schemes (absoluteURI) are carried opaquely
  for (let i = colon + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 34 || c === 60 || c === 62 || c >= 127) return bad('bad character in URI');
  }
  if (colon + 1 >= s.length) return bad('empty URI');
  return { ok: true, uri: { scheme, raw: s } };
}

function parseSip(s: string, p: number, scheme: 'sip' | 'sips'): ParseUriResult {
  const n = s.length;
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };
  const at = s.indexOf('@', p);
  if (at >= 0) {
    const pc = s.indexOf(':', p);
    const userEnd = pc >= 0 && pc < at ? pc : at;
    if (userEnd === p) return bad('empty user part');
    if (!allIn(USER, s, p, userEnd)) return bad('bad character in user part');
    uri.user = s.slice(p, userEnd);
    if (userEnd < at) {
      if (!allIn(PASSWORD, s, userEnd + 1, at)) return bad('bad character in password');
      uri.password = s.slice(userEnd + 1, at);
    }
    p = at + 1;
  }
  let i = p;
  if (s.charCodeAt(p) === 91 /* [ */) {
    // RFC 5118 / RFC 3261 §25.1 IPv6reference = "[" IPv6address "]"
    const close = s.indexOf(']', p);
    if (close < 0 || !allIn(IPV6, s, p + 1, close) || !isIPv6(s.slice(p + 1, close)))
      return bad('bad IPv6 reference');
    i = close + 1;
  } else {
    while (i < n && isIn(HOST, s.charCodeAt(i))) i++;
    if (i === p) return bad('missing host');
  }
  uri.host = lowerSlice(s, p, i);
  if (i < n && s.charCodeAt(i) === 58 /* : */) {
    const ps = ++i;
    while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    const port = Number(s.slice(ps, i));
    if (i === ps || i - ps > 5 || port > 65535) return bad('bad port');
    uri.port = port;
  }
  while (i < n && s.charCodeAt(i) === 59 /* ; */) {
    const ns = ++i;
    while (i < n && isIn(PARAM, s.charCodeAt(i))) i++;
    if (i === ns) return bad('empty URI parameter');
    const name = s.slice(ns, i).toLowerCase();
    if (i < n && s.charCodeAt(i) === 61 /* = */) {
      const vs = ++i;
      while (i < n && isIn(PARAM, s.charCodeAt(i))) i++;
      if (i === vs) return bad(`empty value for URI parameter "${name}"`);
      uri.params.set(name, s.slice(vs, i));
    } else uri.params.set(name, null);
  }
  if (i < n && s.charCodeAt(i) === 63 /* ? */) {
    do {
      const ns = ++i;
      while (i < n && isIn(HNV, s.charCodeAt(i))) i++;
      if (i === ns || s.charCodeAt(i) !== 61) return bad('bad URI header');
      const vs = ++i;
      while (i < n && isIn(HNV, s.charCodeAt(i))) i++;
      uri.headers.set(s.slice(ns, vs - 1), s.slice(vs, i));
    } while (i < n && s.charCodeAt(i) === 38 /* & */);
  }
  if (i !== n) return bad(`unexpected character "${s.charAt(i)}" in URI`);
  return { ok: true, uri };
}

/** `s.slice(start, end)` lower-cased, allocating once. */
function lowerSlice(s: string, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.slice(start, end).toLowerCase();
  }
  return s.slice(start, end);
}

function isIn(t: Uint8Array, c: number): boolean {
  return c < 128 && t[c] === 1;
}

function parseTel(s: string, p: number): ParseUriResult {
  const semi = s.indexOf(';', p);
  const end = semi < 0 ? s.length : semi;
  if (end === p || !allIn(TEL, s, p, end)) return bad('bad telephone number');
  const uri: TelUri = { scheme: 'tel', number: s.slice(p, end), params: new Map() };
  let i = end;
  while (i < s.length && s.charCodeAt(i) === 59) {
    const ns = ++i;
    while (i < s.length && isIn(PARAM, s.charCodeAt(i))) i++;
    if (i === ns) return bad('empty tel parameter');
    const name = s.slice(ns, i).toLowerCase();
    if (s.charCodeAt(i) === 61) {
      const vs = ++i;
      while (i < s.length && isIn(PARAM, s.charCodeAt(i))) i++;
      uri.params.set(name, s.slice(vs, i));
    } else uri.params.set(name, null);
  }
  if (i !== s.length) return bad('unexpected character in tel URI');
  return { ok: true, uri };
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

const UNRESERVED_SET = table(UNRESERVED);

/**
 * RFC 3261 §19.1.4: an escaped unreserved character equals the character. Decodes those escapes
 * (one pass, never recursively) and upper-cases the hex of the others.
 */
function normalizeEscapes(s: string): string {
  if (s.indexOf('%') < 0) return s;
  return s.replace(/%([0-9a-fA-F]{2})/g, (m, hex: string) => {
    const code = parseInt(hex, 16);
    return code < 128 && UNRESERVED_SET[code] === 1 ? String.fromCharCode(code) : m.toUpperCase();
  });
}

/** Parameters keyed and valued in comparable form (escapes normalised, lower-case). */
function comparable(params: ReadonlyMap<string, string | null>): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const [k, v] of params)
    out.set(
      normalizeEscapes(k).toLowerCase(),
      v === null ? null : normalizeEscapes(v).toLowerCase(),
    );
  return out;
}

/** Parameters that must match when present in either URI (RFC 3261 §19.1.4). */
const SIGNIFICANT = ['user', 'ttl', 'method', 'maddr', 'transport'];

function sipEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  // RFC 3261 §19.1.4: userinfo is compared case-sensitively, escapes of unreserved chars decoded
  if ((a.user === undefined) !== (b.user === undefined)) return false;
  if (a.user !== undefined && normalizeEscapes(a.user) !== normalizeEscapes(b.user ?? ''))
    return false;
  if (normalizeEscapes(a.password ?? '') !== normalizeEscapes(b.password ?? '')) return false;
  if (a.host !== b.host || a.port !== b.port) return false;
  const ap = comparable(a.params);
  const bp = comparable(b.params);
  for (const name of SIGNIFICANT) {
    if (ap.has(name) !== bp.has(name)) return false;
  }
  // §19.1.4: parameters present in both must match, case-insensitively
  for (const [k, v] of ap) {
    if (bp.has(k) && bp.get(k) !== v) return false;
  }
  // §19.1.4: URI header components are never ignored
  if (a.headers.size !== b.headers.size) return false;
  const bh = new Map<string, string>();
  for (const [k, v] of b.headers) bh.set(normalizeEscapes(k).toLowerCase(), v);
  for (const [k, v] of a.headers) {
    const other = bh.get(normalizeEscapes(k).toLowerCase());
    if (other === undefined || !ciEqual(v, other)) return false;
  }
  return true;
}

function ciEqual(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return normalizeEscapes(a).toLowerCase() === normalizeEscapes(b).toLowerCase();
}

function telEquals(a: TelUri, b: TelUri): boolean {
  // RFC 3966 §4: visual separators ignored, parameters compared order-independently
  const strip = (n: string): string => n.replace(/[-.()]/g, '').toLowerCase();
  if (strip(a.number) !== strip(b.number) || a.params.size !== b.params.size) return false;
  for (const [k, v] of a.params) {
    if (!b.params.has(k) || !ciEqual(v, b.params.get(k) ?? null)) return false;
  }
  return true;
}

/** URI equality: RFC 3261 §19.1.4 for SIP/SIPS, RFC 3966 §4 for tel, exact match otherwise. */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (isSipUri(a)) return isSipUri(b) && sipEquals(a, b);
  if (isTelUri(a)) return isTelUri(b) && telEquals(a, b);
  if (isSipUri(b) || isTelUri(b)) return false;
  return a.scheme === b.scheme && a.raw === b.raw;
}
