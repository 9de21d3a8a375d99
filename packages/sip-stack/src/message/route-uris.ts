// The Route set as parsed URIs (RFC 3261 §16.4, §16.12, §20.34): what a proxy routes on, read
// straight from the received bytes for the usual "<uri>;params" values, without the name-addr
// objects and URI strings SipMessage#routes builds.

import type { SipHeaders } from './sip-headers.js';
import { HeaderId } from './header-names.js';
import { PVALUE, TOKEN, splitValues } from './header-values.js';
import { parseNameAddr } from './name-addr.js';
import { parseUri, parseUriBytes, type Uri } from './sip-uri.js';

/** Module-local 256-entry copies (TurboFan embeds a module's own tables; no range check). */
const TOKEN_B = new Uint8Array(256);
TOKEN_B.set(TOKEN);
const PVALUE_B = new Uint8Array(256);
PVALUE_B.set(PVALUE);

/** Scratch value span for SipHeaders#rawSpan (read immediately). */
const SPAN: [number, number] = [0, 0];

/**
 * The URI of every Route value in order. Values that are not a name-addr are skipped (as in
 * SipMessage#routes); a URI that does not parse is kept as `{ scheme: '', raw }`.
 */
export function routeUriList(h: SipHeaders): Uri[] {
  // (made from the first URI: an empty array literal grows to 17 slots on its first push)
  let out: Uri[] | undefined;
  const b = h.rawBytes;
  for (let i = h.lineOf(HeaderId.route); i >= 0; i = h.lineOf(HeaderId.route, i + 1)) {
    const s = b === undefined ? undefined : h.rawSpan(i, SPAN);
    if (s !== undefined && b !== undefined) {
      const mark = out === undefined ? 0 : out.length;
      const read = angleUris(b, s, SPAN[0], SPAN[1], out);
      if (read !== undefined) {
        out = read;
        continue;
      }
      if (out !== undefined) out.length = mark;
    }
    const line = h.peekAt(i);
    for (const v of line.indexOf(',') < 0 ? [line.trim()] : splitValues(line)) {
      if (v.length === 0) continue;
      const na = parseNameAddr(v);
      if (!na.ok) continue;
      const pu = parseUri(na.value.uri);
      const u: Uri = pu.ok ? pu.uri : { scheme: '', raw: na.value.uri };
      if (out === undefined) out = [u];
      else out.push(u);
    }
  }
  return out ?? [];
}

/**
 * Appends the URIs of s[from, to) to `out` (a new array when undefined) and returns it, when
 * s[from, to) is a comma-separated list of "<uri>" with plain parameters (token names, token or
 * host values; no LWS, quotes or display names) whose URIs parse; undefined for anything else
 * (the caller then drops what was appended and parses the line as strings).
 */
function angleUris(
  b: Uint8Array,
  s: string,
  from: number,
  to: number,
  out: Uri[] | undefined,
): Uri[] | undefined {
  let p = from;
  for (;;) {
    if (b[p] !== 60 /* < */ || p + 2 >= to) return undefined;
    const gt = s.indexOf('>', p + 1);
    if (gt < 0 || gt >= to || gt === p + 1) return undefined;
    // The URI grammars refuse CTL, SP, "<", DQUOTE and non-ASCII bytes; a "," only the userinfo
    // takes, and a value with one is left to the general reading (a "," can separate values).
    const u = parseUriBytes(b, s, p + 1, gt);
    if (typeof u === 'string' || hasComma(u)) return undefined;
    if (out === undefined) out = [u];
    else out.push(u);
    p = gt + 1;
    // RFC 3261 §20.34: route-param = generic-param
    while (p < to && b[p] === 59 /* ; */) {
      const ns = ++p;
      while (p < to && TOKEN_B[b[p] as number] === 1) p++;
      if (p === ns) return undefined;
      if (p < to && b[p] === 61 /* = */) {
        const vs = ++p;
        while (p < to && PVALUE_B[b[p] as number] === 1) p++;
        if (p === vs) return undefined;
      }
    }
    if (p === to) return out;
    if (b[p] !== 44 /* , */) return undefined;
    p++;
    while (p < to && (b[p] === 32 || b[p] === 9)) p++;
  }
}

/** True when a "," is in the URI (only a SIP userinfo or an absolute URI can have one). */
function hasComma(u: Uri): boolean {
  if ('raw' in u) return u.raw.indexOf(',') >= 0;
  if (!('user' in u)) return false;
  return u.user.indexOf(',') >= 0 || (u.password !== undefined && u.password.indexOf(',') >= 0);
}
