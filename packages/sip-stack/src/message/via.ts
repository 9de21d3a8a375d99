// Via header values (RFC 3261 §20.42, §18.2.1; RFC 3581 rport; RFC 5118 IPv6).

import { formatParams, TOKEN, valueEnd } from './header-values.js';
import { fastAt, fastViaParams, parseViaParams, paramsEnd } from './via-params.js';
import { textBytes } from './text-bytes.js';

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

/** Byte tables (256 entries: no range check in the loops). */
const TOKEN_B = new Uint8Array(256);
TOKEN_B.set(TOKEN);

function isWs(c: number | undefined): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

// The scanners below decide on bytes `b` (b[i] is s.charCodeAt(i), see textBytes) and slice
// strings from `s`; indices are shared.

function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end && isWs(b[i])) i++;
  return i;
}

function tokenEnd(b: Uint8Array, i: number, end: number): number {
  while (i < end && TOKEN_B[b[i] as number] === 1) i++;
  return i;
}

/** Interned transport names: no string kept per message for the usual ones. */
function transportName(b: Uint8Array, s: string, i: number, e: number): string {
  const len = e - i;
  const c0 = b[i];
  if (len === 3 && b[i + 2] === 80 /* P */) {
    if (c0 === 85 && b[i + 1] === 68) return 'UDP';
    if (c0 === 84 && b[i + 1] === 67) return 'TCP';
  } else if (len === 3 && c0 === 84 && b[i + 1] === 76 && b[i + 2] === 83) return 'TLS';
  else if (len === 2 && c0 === 87 && b[i + 1] === 83) return 'WS';
  else if (len === 3 && c0 === 87 && b[i + 1] === 83 && b[i + 2] === 83) return 'WSS';
  return s.slice(i, e).toUpperCase();
}

/** Parses the sent-protocol "SIP / 2.0 / UDP" (LWS allowed around "/"); -1 on error. */
function parseProtocol(
  b: Uint8Array,
  s: string,
  i: number,
  end: number,
  out: [string, string],
): number {
  // fast path: exactly "SIP/2.0/"
  if (
    b[i] === 83 &&
    b[i + 1] === 73 &&
    b[i + 2] === 80 &&
    b[i + 3] === 47 &&
    b[i + 4] === 50 &&
    b[i + 5] === 46 &&
    b[i + 6] === 48 &&
    b[i + 7] === 47 &&
    i + 8 <= end
  ) {
    const e = tokenEnd(b, i + 8, end);
    if (e === i + 8) return -1;
    out[0] = 'SIP/2.0';
    out[1] = transportName(b, s, i + 8, e);
    return e;
  }
  const parts: string[] = [];
  let ts = i;
  for (let k = 0; k < 3; k++) {
    i = skipWs(b, i, end);
    if (k > 0) {
      if (i >= end || b[i] !== 47 /* / */) return -1;
      i = skipWs(b, i + 1, end);
    }
    const e = tokenEnd(b, i, end);
    if (e === i) return -1;
    parts.push(s.slice(i, e));
    ts = i;
    i = e;
  }
  out[0] = (parts[0] ?? '').toUpperCase() + '/' + (parts[1] ?? '');
  out[1] = transportName(b, s, ts, i);
  return i;
}

/** Scratch output of parseProtocol (single-threaded, read immediately). */
const PROTO: [string, string] = ['', ''];

/** Parses one via-parm (a single Via value, not a comma-separated list). Never throws. */
export function parseVia(s: string): ParseViaResult {
  const r = parseViaBytes(textBytes(s), s, 0, s.length);
  return typeof r === 'string' ? bad(r) : { ok: true, value: r };
}

/**
 * @internal parseVia on s[start, end) deciding on the bytes `b` (b[i] = s.charCodeAt(i), e.g. the
 * received buffer and its latin1 text), without slicing the value. LWS may include folded CRLFs.
 * With `comma`, a comma outside quotes ends the value (the top value of a Via line). Returns the
 * Via or the reason it is malformed.
 */
export function parseViaBytes(
  b: Uint8Array,
  s: string,
  start: number,
  n: number,
  comma = false,
): Via | string {
  const proto = PROTO;
  let i = parseProtocol(b, s, skipWs(b, start, n), n, proto);
  if (i < 0) return 'bad Via sent-protocol';
  const hs = skipWs(b, i, n);
  if (hs === i) return 'missing LWS before Via sent-by';
  i = hs;
  let upper = false;
  if (b[i] === 91 /* [ */ && i < n) {
    if (comma) {
      // (rare: cut the value at its comma first, as the general rule does)
      n = valueEnd(s, i, n);
      comma = false;
    }
    const close = s.indexOf(']', i);
    if (close < 0 || close >= n) return 'bad IPv6 reference in Via';
    i = close + 1;
    upper = true;
  } else {
    for (; i < n; i++) {
      const c = b[i] as number;
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95)
        continue;
      if (c >= 65 && c <= 90) upper = true;
      else break;
    }
  }
  if (i === hs) return 'missing Via sent-by host';
  const host = upper ? s.slice(hs, i).toLowerCase() : s.slice(hs, i);
  let port: number | undefined;
  let j = skipWs(b, i, n);
  if (j < n && b[j] === 58 /* : */) {
    j = skipWs(b, j + 1, n);
    const ps = j;
    let p = 0;
    for (; j < n; j++) {
      const d = (b[j] as number) - 48;
      if (d < 0 || d > 9) break;
      p = p * 10 + d;
    }
    if (j === ps || j - ps > 5 || p > 65535) return 'bad Via port';
    port = p;
    i = j;
  }
  const end = fastViaParams(b, s, i, n, comma);
  if (end >= 0) {
    return viaFromFast(proto[0], proto[1], host, port, s, i, end);
  }
  const v = new ParsedVia(proto[0], proto[1], host, port, s, i, n, undefined, undefined, undefined);
  const err = parseViaParams(b, s, i, n, v, undefined, comma);
  if (err !== null) return err;
  v.setEnd(paramsEnd);
  return v;
}

/**
 * A parsed Via. `params` is built from the validated text on first access (routing reads only
 * branch/received/rport); assigning it replaces the lazy value. Spreading an instance copies only
 * its own fields: pass `params` explicitly (`{ ...v, params: new Map(v.params) }`).
 * (Exported for the parser's fast path only: the package entry exports the Via type.)
 */
export class ParsedVia implements Via {
  protocol: string;
  transport: string;
  host: string;
  port: number | undefined;
  branch: string | undefined;
  received: string | undefined;
  rport: number | null | undefined;
  #src: string;
  /** s[#ps, #pe): the validated via-params. */
  #ps: number;
  #pe: number;
  #params: Map<string, string | null> | undefined = undefined;

  constructor(
    protocol: string,
    transport: string,
    host: string,
    port: number | undefined,
    src: string,
    ps: number,
    pe: number,
    branch: string | undefined,
    received: string | undefined,
    rport: number | null | undefined,
  ) {
    this.protocol = protocol;
    this.transport = transport;
    this.host = host;
    this.port = port;
    this.branch = branch;
    this.received = received;
    this.rport = rport;
    this.#src = src;
    this.#ps = ps;
    this.#pe = pe;
  }

  /** @internal Where the validated via-params end (set after the general scanner ran). */
  setEnd(pe: number): void {
    this.#pe = pe;
  }

  get params(): Map<string, string | null> {
    let p = this.#params;
    if (p === undefined) {
      p = this.#params = new Map();
      const text = this.#src.slice(this.#ps, this.#pe);
      // (already validated: only the Map is filled; the fields are recomputed on a scratch Via)
      parseViaParams(textBytes(text), text, 0, text.length, SCRATCH, p);
    }
    return p;
  }

  set params(value: Map<string, string | null>) {
    this.#params = value;
  }
}

/**
 * @internal The Via whose via-params s[ps, pe) fastViaParams just read (its fields in fastAt).
 */
export function viaFromFast(
  protocol: string,
  transport: string,
  host: string,
  port: number | undefined,
  s: string,
  ps: number,
  pe: number,
): ParsedVia {
  const f = fastAt;
  const b0 = f[0] as number;
  const r0 = f[2] as number;
  const rp = f[4] as number;
  const branch = b0 >= 0 ? s.slice(b0, f[1]) : undefined;
  const received = r0 >= 0 ? s.slice(r0, f[3]) : undefined;
  const rport = rp === -1 ? undefined : rp === -2 ? null : rp;
  return new ParsedVia(protocol, transport, host, port, s, ps, pe, branch, received, rport);
}

const SCRATCH: Via = { protocol: '', transport: '', host: '', params: new Map() };

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
