// name-addr / addr-spec header values: From, To, Contact, Route, Record-Route (RFC 3261 §20.10, §25.1).

import {
  isTokenChar,
  parseParams,
  quote,
  quotedEnd,
  skipWs,
  unquote,
  formatParams,
  isToken,
  PVALUE,
} from './header-values.js';
import { parseUri, type Uri } from './sip-uri.js';

export interface NameAddr {
  /** Display name without quotes and escapes. */
  displayName?: string;
  /** The URI as written (raw). */
  uri: string;
  /** Header parameters (after the URI), names lower-cased, values as written. */
  params: Map<string, string | null>;
  readonly tag?: string | undefined;
}

export interface Contact extends NameAddr {
  /** `Contact: *` (RFC 3261 §10.2.2). */
  star: boolean;
  expires?: number;
  q?: number;
}

export type ParseNameAddrResult = { ok: true; value: NameAddr } | { ok: false; reason: string };
export type ParseContactResult = { ok: true; value: Contact } | { ok: false; reason: string };

/** NameAddr with the `tag` convenience getter. */
class ParsedNameAddr implements NameAddr {
  declare displayName?: string;
  uri: string;
  params: Map<string, string | null>;
  constructor(uri: string, params: Map<string, string | null>) {
    this.uri = uri;
    this.params = params;
  }
  get tag(): string | undefined {
    return this.params.get('tag') ?? undefined;
  }
}

class ParsedContact extends ParsedNameAddr implements Contact {
  star = false;
  declare expires?: number;
  declare q?: number;
}

export interface ParseNameAddrOptions {
  /**
   * Default false (liberal, as RFC 4475 §3.1.2.14/15 allow): unquoted display names with
   * non-token characters and LWS inside <> are accepted. true rejects them.
   */
  strict?: boolean;
}

/** Fills `target` from `s`; returns null or a reason. */
function parseInto(s: string, target: ParsedNameAddr, strict: boolean): string | null {
  const n = s.length;
  let i = skipWs(s, 0);
  if (i >= n) return 'empty value';
  let display: string | undefined;
  if (s.charCodeAt(i) === 34 /* " */) {
    const e = quotedEnd(s, i);
    if (e < 0) return 'unterminated quoted display name';
    display = unquote(s.slice(i, e));
    i = skipWs(s, e);
    if (s.charCodeAt(i) !== 60 /* < */) return 'expected "<" after display name';
  } else {
    // display-name = *(token LWS): '<' means name-addr, ':' right after a scheme means addr-spec
    const ds = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (!isTokenChar(c) && c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
      i++;
    }
    const c = s.charCodeAt(i);
    if (c === 58 /* : */ && i > ds && !hasWs(s, ds, i)) return parseAddrSpec(s, ds, target);
    if (c !== 60 /* < */) {
      const lt = s.indexOf('<', i);
      // RFC 3261 §25.1: an unquoted display name is tokens only (liberal mode takes it verbatim)
      if (strict || lt < 0 || s.lastIndexOf('"', lt) >= ds) return 'bad display name or URI';
      i = lt;
    }
    if (i > ds) {
      const d = s.slice(ds, i).trim();
      if (d.length > 0) display = /\s\s|[\t\r\n]/.test(d) ? d.replace(/\s+/g, ' ') : d;
    }
  }
  // name-addr: "<" addr-spec ">"
  const gt = s.indexOf('>', i + 1);
  if (gt < 0) return 'missing ">"';
  let us = i + 1;
  let ue = gt;
  if (!strict) {
    // RFC 4475 §3.1.2.14: LWS inside <> may be ignored
    while (us < ue && s.charCodeAt(us) <= 32) us++;
    while (ue > us && s.charCodeAt(ue - 1) <= 32) ue--;
  }
  if (ue === us) return 'empty URI in angle brackets';
  for (let k = us; k < ue; k++) {
    const c = s.charCodeAt(k);
    if (c <= 32 || c === 60 || c === 34) return 'bad URI in angle brackets';
  }
  target.uri = s.slice(us, ue);
  if (display !== undefined) target.displayName = display;
  return parseParams(s, gt + 1, target.params);
}

function hasWs(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) <= 32) return true;
  return false;
}

/** RFC 3261 §20: in an addr-spec, parameters after the URI belong to the header, not the URI. */
function parseAddrSpec(s: string, start: number, target: ParsedNameAddr): string | null {
  let i = start;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 59 /* ; */ || c === 32 || c === 9 || c === 13 || c === 10) break;
    if (c === 60 || c === 62 || c === 34 || c === 44) return 'bad character in URI';
    i++;
  }
  target.uri = s.slice(start, i);
  return parseParams(s, i, target.params);
}

/** Parses one name-addr or addr-spec value (with header parameters). Never throws. */
export function parseNameAddr(s: string, options?: ParseNameAddrOptions): ParseNameAddrResult {
  const v = new ParsedNameAddr('', new Map());
  const err = parseInto(s, v, options?.strict === true);
  return err === null ? { ok: true, value: v } : { ok: false, reason: err };
}

/**
 * @internal parseNameAddr of s[from, to) for the plain form "<uri>" with optional header
 * parameters and nothing the generic path treats specially (no display name, LWS, comma, quote
 * or non-ASCII character); undefined when the value is not of that form (the caller falls back).
 */
export function parseAngleAddr(s: string, from: number, to: number): NameAddr | undefined {
  if (to - from < 3 || s.charCodeAt(from) !== 60 /* < */) return undefined;
  let gt = -1;
  for (let k = from + 1; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c === 62 /* > */) {
      gt = k;
      break;
    }
    if (c <= 32 || c === 60 || c === 34 || c === 44 || c >= 128) return undefined;
  }
  if (gt <= from + 1) return undefined;
  const v = new ParsedNameAddr(s.slice(from + 1, gt), new Map());
  if (gt + 1 === to) return v;
  for (let k = gt + 1; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c === 44 || c === 34 || c >= 128) return undefined;
  }
  return parseParams(s.slice(gt + 1, to), 0, v.params) === null ? v : undefined;
}

/** Parses one Contact value: "*" or a name-addr/addr-spec with contact-params. */
export function parseContact(s: string, options?: ParseNameAddrOptions): ParseContactResult {
  const v = new ParsedContact('', new Map());
  if (s.trim() === '*') {
    v.star = true;
    v.uri = '*';
    return { ok: true, value: v };
  }
  const err = parseInto(s, v, options?.strict === true);
  if (err !== null) return { ok: false, reason: err };
  const expires = v.params.get('expires');
  if (expires !== undefined) {
    // RFC 3261 §20.10: delta-seconds; out-of-range values treated as absent by callers
    if (expires === null || !/^\d{1,10}$/.test(expires))
      return { ok: false, reason: 'bad expires' };
    const e = Number(expires);
    if (e > 0xffffffff) return { ok: false, reason: 'expires out of range' };
    v.expires = e;
  }
  const q = v.params.get('q');
  if (q !== undefined) {
    // RFC 3261 §20.10 qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    if (q === null || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(q))
      return { ok: false, reason: 'bad q' };
    v.q = Number(q);
  }
  return { ok: true, value: v };
}

/** Serialises a NameAddr, always in name-addr form (angle brackets). */
export function formatNameAddr(n: NameAddr): string {
  let out = '';
  if (n.displayName !== undefined && n.displayName.length > 0) {
    const tokens = n.displayName.split(' ');
    out = (tokens.every(isToken) ? n.displayName : quote(n.displayName)) + ' ';
  }
  if (n.uri === '*' && (n as Partial<Contact>).star === true) return '*';
  return out + '<' + n.uri + '>' + formatParams(n.params);
}

/** The parsed URI of a NameAddr, or undefined when it does not parse. */
export function nameAddrUri(n: NameAddr): Uri | undefined {
  const r = parseUri(n.uri);
  return r.ok ? r.uri : undefined;
}

/**
 * The `tag` header parameter of a raw From/To value s[from, to) without building a NameAddr (hot
 * path for transaction and dialog matching); undefined when absent or unparseable.
 */
export function tagOf(s: string, from = 0, to = s.length): string | undefined {
  let p: number;
  let lt = indexIn(s, '<', from, to);
  // (a display name before "<" is short: a loop, not a search to the end of a message)
  const qe = lt < 0 ? to : lt;
  let q = -1;
  for (let k = from; k < qe; k++) {
    if (s.charCodeAt(k) === 34 /* " */) {
      q = k;
      break;
    }
  }
  if (q >= 0 && (lt < 0 || q < lt)) {
    const e = quotedEnd(s, q);
    if (e < 0 || e > to) return undefined;
    lt = indexIn(s, '<', e, to);
    if (lt < 0) return undefined;
  }
  if (lt >= 0) {
    const gt = indexIn(s, '>', lt, to);
    if (gt < 0) return undefined;
    p = gt + 1;
  } else {
    // addr-spec: header parameters start at the first ';' (RFC 3261 §20.10)
    p = indexIn(s, ';', from, to);
    if (p < 0) return undefined;
  }
  return paramValue(s, p, to, 'tag');
}

/** s.indexOf(ch, from) when it is before `to`, else -1. */
function indexIn(s: string, ch: string, from: number, to: number): number {
  const i = s.indexOf(ch, from);
  return i < to ? i : -1;
}

function skipWsTo(s: string, i: number, n: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (i >= n || (c !== 32 && c !== 9 && c !== 13 && c !== 10)) return i;
    i++;
  }
}

/**
 * Value of parameter `name` (lower-case) in `*( SEMI param )` of s[i, n), without allocating
 * others.
 */
function paramValue(s: string, i: number, n: number, name: string): string | undefined {
  for (;;) {
    i = skipWsTo(s, i, n);
    if (i >= n || s.charCodeAt(i) !== 59 /* ; */) return undefined;
    i = skipWsTo(s, i + 1, n);
    const ns = i;
    while (i < n && isTokenChar(s.charCodeAt(i))) i++;
    const match = i - ns === name.length && equalsLowerAt(s, ns, name);
    i = skipWsTo(s, i, n);
    if (i < n && s.charCodeAt(i) === 61 /* = */) {
      i = skipWsTo(s, i + 1, n);
      const vs = i;
      if (s.charCodeAt(i) === 34 && i < n) {
        const e = quotedEnd(s, i);
        if (e < 0 || e > n) return undefined;
        i = e;
      } else {
        while (i < n) {
          const c = s.charCodeAt(i);
          if (c >= 128 || PVALUE[c] !== 1) break;
          i++;
        }
      }
      if (match) return i > vs ? s.slice(vs, i) : undefined;
    } else if (match) return undefined;
  }
}

/** True when s[i, i + lower.length) equals the lower-case token `lower`, ignoring ASCII case. */
function equalsLowerAt(s: string, i: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    const c = s.charCodeAt(i + k);
    const w = lower.charCodeAt(k);
    if (c !== w && !(w >= 97 && w <= 122 && c === w - 32)) return false;
  }
  return true;
}

/** Tag parameter of a NameAddr-like value. */
export function nameAddrTag(n: NameAddr): string | undefined {
  return n.params.get('tag') ?? undefined;
}

/** A new NameAddr (with the tag getter) from parts. */
export function createNameAddr(
  uri: string,
  params?: Iterable<[string, string | null]>,
  displayName?: string,
): NameAddr {
  const v = new ParsedNameAddr(uri, new Map(params));
  if (displayName !== undefined) v.displayName = displayName;
  return v;
}
