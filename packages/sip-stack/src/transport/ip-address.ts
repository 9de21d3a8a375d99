/** Small helpers for IP literals as they appear on sockets and in Via headers. */
import { isIP } from 'node:net';

export type IpFamily = 4 | 6;

/** Dotted-quad IPv4 as node:net accepts it (no leading zeros), without a regular expression. */
function isIpv4Literal(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let i = 0;
  while (i <= n) {
    const start = i;
    let v = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(start) === 48)) return false;
    parts++;
    if (i === n) return parts === 4;
    if (s.charCodeAt(i) !== 46 || parts === 4) return false;
    i++;
  }
  return false;
}

/** node:net isIP, with IPv4 checked by hand (the hot case: every datagram, every send). */
function ipKind(s: string): 0 | IpFamily {
  if (isIpv4Literal(s)) return 4;
  return isIP(s) as 0 | IpFamily;
}

/** Whether a string needs the full normalisation (brackets, upper case, IPv4-mapped prefix). */
function needsNormalising(a: string): boolean {
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    // '[', 'A'-'Z', ':' (only IPv6 literals can carry the ::ffff: prefix)
    if (c === 91 || c === 58 || (c >= 65 && c <= 90)) return true;
  }
  return false;
}

/** Strips brackets, lowercases, and turns IPv4-mapped IPv6 ("::ffff:1.2.3.4") back into IPv4. */
export function normaliseAddress(address: string): string {
  if (!needsNormalising(address)) return address;
  let a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  a = a.toLowerCase();
  if (a.startsWith('::ffff:') && isIpv4Literal(a.slice(7))) a = a.slice(7);
  return a;
}

/** 4, 6, or 0 when not an IP literal (a domain name). Brackets allowed. */
export function ipFamily(address: string): 0 | IpFamily {
  return ipKind(normaliseAddress(address));
}

/** Full, lowercase, zero-padded form of an IPv6 literal; other input unchanged. */
function expandIpv6(a: string): string {
  if (!a.includes(':') || isIP(a) !== 6) return a;
  let s = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1] !== undefined) {
    const parts = v4[1].split('.').map(Number);
    const hi = (((parts[0] ?? 0) << 8) | (parts[1] ?? 0)).toString(16);
    const lo = (((parts[2] ?? 0) << 8) | (parts[3] ?? 0)).toString(16);
    s = s.slice(0, -v4[1].length) + `${hi}:${lo}`;
  }
  const [head = '', tail] = s.split('::');
  const h = head === '' ? [] : head.split(':');
  const tl = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - tl.length).fill('0');
  return [...h, ...fill, ...tl].map((g) => g.padStart(4, '0')).join(':');
}

/** Whether two IP literals name the same address (RFC 3261 §18.2.1 received comparison). */
export function sameAddress(a: string, b: string): boolean {
  const x = normaliseAddress(a);
  const y = normaliseAddress(b);
  if (x === y) return true;
  // Only IPv6 literals have more than one spelling.
  if (!x.includes(':') || !y.includes(':')) return false;
  return expandIpv6(x) === expandIpv6(y);
}

/** "host:port" with brackets around IPv6 literals. */
export function formatHostPort(address: string, port?: number): string {
  const host = address.includes(':') && isIP(address) === 6 ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${port}`;
}

/** A bound address that means "every interface". */
export function isWildcard(address: string): boolean {
  const a = normaliseAddress(address);
  if (a === '0.0.0.0' || a === '::') return true;
  return a.includes(':') && expandIpv6(a) === UNSPECIFIED_V6;
}

const UNSPECIFIED_V6 = expandIpv6('::');
