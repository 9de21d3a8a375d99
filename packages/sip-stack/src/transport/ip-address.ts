/** Small helpers for IP literals as they appear on sockets and in Via headers. */
import { isIP } from 'node:net';

export type IpFamily = 4 | 6;

/** Strips brackets, lowercases, and turns IPv4-mapped IPv6 ("::ffff:1.2.3.4") back into IPv4. */
export function normaliseAddress(address: string): string {
  let a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  a = a.toLowerCase();
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  return a;
}

/** 4, 6, or 0 when not an IP literal (a domain name). Brackets allowed. */
export function ipFamily(address: string): 0 | IpFamily {
  return isIP(normaliseAddress(address)) as 0 | IpFamily;
}

/** Full, lowercase, zero-padded form of an IPv6 literal; other input unchanged. */
function expandIpv6(a: string): string {
  if (isIP(a) !== 6) return a;
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
  return expandIpv6(x) === expandIpv6(y);
}

/** "host:port" with brackets around IPv6 literals. */
export function formatHostPort(address: string, port?: number): string {
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${port}`;
}

/** A bound address that means "every interface". */
export function isWildcard(address: string): boolean {
  const a = normaliseAddress(address);
  return a === '0.0.0.0' || a === '::' || expandIpv6(a) === expandIpv6('::');
}
