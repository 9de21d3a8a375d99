// Via header values (RFC 3261 §20.42, §18.2.1; RFC 3581 rport; RFC 5118 IPv6).

import { formatParams, quotedEnd } from './header-values.js';

function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** RFC 3261 §25.1 token (module-local copy: imported bindings are slower in hot loops). */
const TOKEN = table(ALNUM + "-.!%*_+`'~");
/** gen-value characters: token / host (IPv6 brackets and colons). */
const PVALUE = table(ALNUM + "-.!%*_+`'~:[]");

export interface Via {
  /** "SIP/2.0" */
  protocol: string;
  /** Upper-case: UDP TCP TLS WS WSS SCTP ... */
  transport: string;
  /** sent-by host, lower-cased; IPv6 keeps its brackets. */
  host: string;
  port?: number | undefined;
  /** All via-params, names lower-cased, values as written (includes branch/received/rport). */
  params: Map<string, string | null>;
  branch?: string | undefined;
  received?: string | undefined;
  /** null = `rport` present without a value (RFC 3581 §3). */
  rport?: number | null | undefined;
}

export type ParseViaResult = { ok: true; value: Via } | { ok: false; reason: string };

const bad = (reason: string): ParseViaResult => ({ ok: false, reason });

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

function skipWs(s: string, i: number, end: number): number {
  while (i < end && isWs(s.charCodeAt(i))) i++;
  return i;
}

function tokenEnd(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) break;
    i++;
  }
  return i;
}

function transportName(t: string): string {
  if (t === 'UDP' || t === 'TCP' || t === 'TLS' || t === 'WS' || t === 'WSS') return t;
  return t.toUpperCase();
}

/** Parses the sent-protocol "SIP / 2.0 / UDP" (LWS allowed around "/"); -1 on error. */
function parseProtocol(s: string, i: number, end: number, out: [string, string]): number {
  // fast path: exactly "SIP/2.0/"
  if (
    s.charCodeAt(i) === 83 &&
    s.charCodeAt(i + 1) === 73 &&
    s.charCodeAt(i + 2) === 80 &&
    s.charCodeAt(i + 3) === 47 &&
    s.charCodeAt(i + 4) === 50 &&
    s.charCodeAt(i + 5) === 46 &&
    s.charCodeAt(i + 6) === 48 &&
    s.charCodeAt(i + 7) === 47
  ) {
    const e = tokenEnd(s, i + 8, end);
    if (e === i + 8) return -1;
    out[0] = 'SIP/2.0';
    out[1] = transportName(s.slice(i + 8, e));
    return e;
  }
  const parts: string[] = [];
  for (let k = 0; k < 3; k++) {
    i = skipWs(s, i, end);
    if (k > 0) {
      if (i >= end || s.charCodeAt(i) !== 47 /* / */) return -1;
      i = skipWs(s, i + 1, end);
    }
    const e = tokenEnd(s, i, end);
    if (e === i) return -1;
    parts.push(s.slice(i, e));
    i = e;
  }
  out[0] = (parts[0] ?? '').toUpperCase() + '/' + (parts[1] ?? '');
  out[1] = transportName(parts[2] ?? '');
  return i;
}

/** Scratch output of parseProtocol (single-threaded, read immediately). */
const PROTO: [string, string] = ['', ''];

/** Parses one via-parm (a single Via value, not a comma-separated list). Never throws. */
export function parseVia(s: string): ParseViaResult {
  return parseViaAt(s, 0, s.length);
}

/** @internal parseVia on s[start, end) without slicing (LWS may include folded CRLFs). */
export function parseViaAt(s: string, start: number, n: number): ParseViaResult {
  const proto = PROTO;
  let i = parseProtocol(s, skipWs(s, start, n), n, proto);
  if (i < 0) return bad('bad Via sent-protocol');
  const hs = skipWs(s, i, n);
  if (hs === i) return bad('missing LWS before Via sent-by');
  i = hs;
  let upper = false;
  if (s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf(']', i);
    if (close < 0 || close >= n) return bad('bad IPv6 reference in Via');
    i = close + 1;
    upper = true;
  } else {
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95)
        continue;
      if (c >= 65 && c <= 90) upper = true;
      else break;
    }
  }
  if (i === hs) return bad('missing Via sent-by host');
  const host = upper ? s.slice(hs, i).toLowerCase() : s.slice(hs, i);
  let port: number | undefined;
  let j = skipWs(s, i, n);
  if (j < n && s.charCodeAt(j) === 58 /* : */) {
    j = skipWs(s, j + 1, n);
    const ps = j;
    let p = 0;
    for (; j < n; j++) {
      const d = s.charCodeAt(j) - 48;
      if (d < 0 || d > 9) break;
      p = p * 10 + d;
    }
    if (j === ps || j - ps > 5 || p > 65535) return bad('bad Via port');
    port = p;
    i = j;
  }
  const v: Via = {
    protocol: proto[0],
    transport: proto[1],
    host,
    port,
    params: new Map(),
    branch: undefined,
    received: undefined,
    rport: undefined,
  };
  const err = parseViaParams(s, i, n, v);
  return err === null ? { ok: true, value: v } : bad(err);
}

/** Interned names of the common via-params (no allocation); other names sliced. */
function knownParam(s: string, start: number, end: number): string {
  const len = end - start;
  const c = s.charCodeAt(start);
  if (
    len === 6 &&
    c === 98 &&
    s.charCodeAt(start + 5) === 104 &&
    s.charCodeAt(start + 1) === 114 &&
    s.charCodeAt(start + 2) === 97 &&
    s.charCodeAt(start + 3) === 110 &&
    s.charCodeAt(start + 4) === 99
  )
    return 'branch';
  if (
    len === 5 &&
    c === 114 &&
    s.charCodeAt(start + 1) === 112 &&
    s.charCodeAt(start + 2) === 111 &&
    s.charCodeAt(start + 3) === 114 &&
    s.charCodeAt(start + 4) === 116
  )
    return 'rport';
  return s.slice(start, end);
}

/** `*( SEMI via-params )`, filling v.params and the branch/received/rport fields. */
function parseViaParams(s: string, i: number, n: number, v: Via): string | null {
  const params = v.params;
  for (;;) {
    i = skipWs(s, i, n);
    if (i >= n) return null;
    if (s.charCodeAt(i) !== 59 /* ; */) return 'expected ";" before Via parameter';
    i = skipWs(s, i + 1, n);
    const ns = i;
    let upper = false;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128 || TOKEN[c] !== 1) break;
      if (c >= 65 && c <= 90) upper = true;
    }
    if (i === ns) return 'empty Via parameter name';
    const name = upper ? s.slice(ns, i).toLowerCase() : knownParam(s, ns, i);
    i = skipWs(s, i, n);
    let value: string | null = null;
    if (i < n && s.charCodeAt(i) === 61 /* = */) {
      i = skipWs(s, i + 1, n);
      const vs = i;
      if (i < n && s.charCodeAt(i) === 34 /* " */) {
        const e = quotedEnd(s, i);
        if (e < 0 || e > n) return 'unterminated quoted string in Via parameter';
        i = e;
      } else {
        for (; i < n; i++) {
          const c = s.charCodeAt(i);
          if (c >= 128 || PVALUE[c] !== 1) break;
        }
      }
      if (i === vs) return `empty value for Via parameter "${name}"`;
      value = s.slice(vs, i);
    }
    params.set(name, value);
    const err = viaField(v, name, value);
    if (err !== null) return err;
  }
}

function viaField(v: Via, name: string, value: string | null): string | null {
  if (name === 'branch') {
    if (value === null) return 'branch without value';
    v.branch = value;
  } else if (name === 'received') {
    if (value === null) return 'received without value';
    v.received = value;
  } else if (name === 'rport') {
    // RFC 3581 §3: rport without a value in requests, with the source port when stamped
    if (value === null) v.rport = null;
    else {
      const p = value.length <= 5 && /^\d+$/.test(value) ? Number(value) : -1;
      if (p < 0 || p > 65535) return 'bad rport';
      v.rport = p;
    }
  }
  return null;
}

/** Serialises a Via value. The branch/received/rport fields, when set, override `params`. */
export function formatVia(v: Via): string {
  let out = v.protocol + '/' + v.transport + ' ' + v.host;
  if (v.port !== undefined) out += ':' + v.port;
  let params = v.params;
  if (v.branch !== undefined || v.received !== undefined || v.rport !== undefined) {
    params = new Map(params);
    if (v.branch !== undefined) params.set('branch', v.branch);
    if (v.received !== undefined) params.set('received', v.received);
    if (v.rport !== undefined) params.set('rport', v.rport === null ? null : String(v.rport));
  }
  return out + formatParams(params);
}
