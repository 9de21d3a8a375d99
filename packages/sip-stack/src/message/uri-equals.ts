// URI equality (RFC 3261 §19.1.4 for SIP/SIPS, RFC 3966 §4 for tel).

import type { SipUri, TelUri, Uri } from './sip-uri.js';

/** RFC 3261 §25.1 unreserved characters, by code (128 entries). */
const UNRESERVED_SET = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()")
  UNRESERVED_SET[ch.charCodeAt(0)] = 1;

function isSip(u: Uri): u is SipUri {
  return u.scheme === 'sip' || u.scheme === 'sips';
}

function isTel(u: Uri): u is TelUri {
  return u.scheme === 'tel' && 'number' in u;
}

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
  if (isSip(a)) return isSip(b) && sipEquals(a, b);
  if (isTel(a)) return isTel(b) && telEquals(a, b);
  if (isSip(b) || isTel(b)) return false;
  return a.scheme === b.scheme && a.raw === b.raw;
}
