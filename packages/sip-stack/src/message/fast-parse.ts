// The fast path of parseMessage for the common well-formed message: no CRLFs before the start
// line, every header line "Name:value" with a token name directly followed by ":", CRLF line
// ends, no folding, no duplicated single-valued header, ASCII bytes, a Content-Length that frames
// the body. It builds exactly what the general parser builds (same position table, same parsed
// values, same objects) in one pass; on anything else it returns undefined and parseMessage
// starts over with the general parser, so results and errors are those of the general parser.

import { isAscii } from 'node:buffer';
import { SipHeaders } from './sip-headers.js';
import { HeaderId } from './header-names.js';
import { MAX_SMI_START } from './header-scan.js';
import { shiftedNameAutomaton, NAME_START } from './name-automaton.js';
import { fastRequestLine, parseStartLine, type StartLine } from './parse-start-line.js';
import { parseViaBytes, viaFromFast, type Via } from './via.js';
import { fastViaParams } from './via-params.js';
import { parseCSeqBytes } from './cseq.js';
import { parseUriBytes } from './sip-uri.js';
import { SipRequest, SipResponse, type SipMessage } from './sip-message.js';

/**
 * The header-name automaton (name-automaton.ts) in module-local consts: TurboFan embeds a
 * module's own constant typed arrays (no load of an imported binding in the per-byte loop).
 */
const { next: NAME_NEXT, pair: NAME_PAIR, id: NAME_ID } = shiftedNameAutomaton();

/** Bytes of a lower-case host name or IPv4 address (a-z, 0-9, "-", ".", "_"), 256 entries. */
const LOWER_HOST = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-._') LOWER_HOST[c.charCodeAt(0)] = 1;

/** Index of the first line per HeaderId (HeaderId values are small integers), -1 when none. */
const FIRST = new Int32Array(16);

/** Reused position table; each scan returns a copy of its used part. */
let table: number[] = new Array<number>(256).fill(0);

/** Headers that must appear once (RFC 3261 §7.3.1, §8.1.1, §20.14, §20.22). */
const SINGLE =
  (1 << HeaderId.callId) |
  (1 << HeaderId.cseq) |
  (1 << HeaderId.from) |
  (1 << HeaderId.to) |
  (1 << HeaderId.maxForwards) |
  (1 << HeaderId.contentLength);

/** Offset of the body, or -1 when the header section is not in the fast path's shape. */
let bodyStart = -1;

/**
 * Splits the header lines from `pos` into the position table scanHeaders would build for them
 * (key, value start, end per line: see header-lines.ts COLS), or returns undefined when a line is not in the
 * canonical shape (then scanHeaders decides).
 */
function fastScan(s: string, b: Uint8Array, pos: number): number[] | undefined {
  const first = FIRST;
  for (let id = 0; id < 16; id++) first[id] = -1;
  let repeated = 0;
  let t = table;
  let k = 0;
  let line = 0;
  const n = s.length;
  for (;;) {
    let i = pos;
    // the name: checked to be a token and classified in one read per byte, its first two bytes
    // in one step (states are shifted by 8: see shiftedNameAutomaton)
    let st = (NAME_PAIR[(b[pos] as number) | ((b[pos + 1] as number) << 8)] as number) << 8;
    if (st !== 0) i += 2;
    else st = NAME_START << 8;
    let c = b[i] as number;
    for (;;) {
      const next = NAME_NEXT[st | c] as number;
      if (next === 0) break;
      st = next;
      c = b[++i] as number;
    }
    if (c !== 58 /* : */ || i === pos) {
      // the empty line ends the header section (RFC 3261 §7)
      if (i === pos && c === 13 && b[pos + 1] === 10 && pos + 1 < n) break;
      return undefined;
    }
    const lf = s.indexOf('\n', i);
    // a bare LF or no line end: the general scan decides (so it does for a folded line, RFC 3261
    // §7.3.1: SP or HT is no name byte, and the next turn refuses the line)
    if (lf < 0 || b[lf - 1] !== 13 || lf + 1 >= n) return undefined;
    const id = NAME_ID[st >> 8] as HeaderId;
    if (id !== HeaderId.other) {
      if ((first[id] as number) < 0) first[id] = line;
      else repeated |= 1 << id;
    }
    if (k + 3 > t.length) t = table = t.concat(new Array<number>(t.length).fill(0));
    // (the key is start * 16 + id, lineKey of header-lines.ts)
    t[k] = pos * 16 + id;
    t[k + 1] = i + 1;
    t[k + 2] = lf - 1;
    k += 3;
    line++;
    pos = lf + 1;
  }
  if ((repeated & SINGLE) !== 0) return undefined;
  bodyStart = pos + 2;
  return t.slice(0, k);
}

/** Trimmed start of the value of line `i` (what wireValue skips: bytes up to SP). */
function valueStart(b: Uint8Array, t: number[], i: number): number {
  let vs = t[i * 3 + 1] as number;
  const ve = t[i * 3 + 2] as number;
  while (vs < ve && (b[vs] as number) <= 32) vs++;
  return vs;
}

/** Trimmed end of the value of line `i` (what wireValue drops: trailing SP/HT). */
function valueEnd(b: Uint8Array, t: number[], i: number, vs: number): number {
  let ve = t[i * 3 + 2] as number;
  while (ve > vs && (b[ve - 1] === 32 || b[ve - 1] === 9)) ve--;
  return ve;
}

/** Strict decimal of line `i` (parseDecimal of its trimmed value), -1 when not one. */
function decimal(b: Uint8Array, t: number[], i: number): number {
  const vs = valueStart(b, t, i);
  const ve = valueEnd(b, t, i, vs);
  if (ve === vs || ve - vs > 10) return -1;
  let v = 0;
  for (let k = vs; k < ve; k++) {
    const d = (b[k] as number) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Transport names interned by the Via grammar, by their first byte ("UDP", "TCP", "TLS"). */
function transport(b: Uint8Array, i: number): string | undefined {
  if (b[i + 3] !== 32) return undefined;
  const c0 = b[i];
  const c1 = b[i + 1];
  const c2 = b[i + 2];
  if (c0 === 85 && c1 === 68 && c2 === 80) return 'UDP';
  if (c0 === 84 && c1 === 67 && c2 === 80) return 'TCP';
  if (c0 === 84 && c1 === 76 && c2 === 83) return 'TLS';
  return undefined;
}

/**
 * The top Via value s[i, n) when it has the common shape "SIP/2.0/UDP host[:port];params" (one SP,
 * lower-case host name or IPv4 address, via-params fastViaParams accepts): the same Via
 * parseViaBytes gives for it. Undefined for anything else, valid or not: parseViaBytes decides.
 */
function fastVia(b: Uint8Array, s: string, i: number, n: number): Via | undefined {
  while (b[i] === 32 && i < n) i++;
  if (i + 13 > n) return undefined;
  // "SIP/2.0/"
  if (b[i] !== 83 || b[i + 1] !== 73 || b[i + 2] !== 80 || b[i + 3] !== 47) return undefined;
  if (b[i + 4] !== 50 || b[i + 5] !== 46 || b[i + 6] !== 48 || b[i + 7] !== 47) return undefined;
  const tr = transport(b, i + 8);
  if (tr === undefined) return undefined;
  const hs = i + 12;
  i = hs;
  while (i < n && LOWER_HOST[b[i] as number] === 1) i++;
  if (i === hs) return undefined;
  const host = s.slice(hs, i);
  let port: number | undefined;
  if (b[i] === 58 /* : */ && i < n) {
    const ps = ++i;
    let p = 0;
    for (; i < n; i++) {
      const d = (b[i] as number) - 48;
      if (d < 0 || d > 9) break;
      p = p * 10 + d;
    }
    if (i === ps || i - ps > 5 || p > 65535) return undefined;
    port = p;
  }
  const end = fastViaParams(b, s, i, n, true);
  if (end < 0) return undefined;
  return viaFromFast('SIP/2.0', tr, host, port, s, i, end);
}

/**
 * The message parsed on the fast path, or undefined when the general parser must decide (which
 * includes every message the general parser would refuse). `s` is the latin1 text of all of
 * `buf`.
 */
export function fastParse(buf: Buffer, s: string, datagram: boolean): SipMessage | undefined {
  const b = buf;
  // (larger texts can have line keys past the small integers: the general scan handles them)
  if (s.length >= MAX_SMI_START) return undefined;
  const lf = s.indexOf('\n');
  if (lf < 1 || b[lf - 1] !== 13 || b[0] === 13) return undefined;
  const sl = lf - 1;
  // (a status line is not a token followed by SP: fastRequestLine leaves it to parseStartLine)
  let method = fastRequestLine(s, b, sl);
  let us = method === undefined ? -1 : method.length + 1;
  let ue = sl - 8;
  let status: StartLine | undefined;
  if (method === undefined) {
    const start = parseStartLine(s, b, 0, sl);
    if ('code' in start) return undefined;
    if (start.kind === 'request') {
      if (start.error !== undefined) return undefined;
      method = start.method;
      us = start.uriStart;
      ue = us + start.uri.length;
    } else status = start;
  }
  const t = fastScan(s, b, lf + 1);
  if (t === undefined) return undefined;
  const first = FIRST;
  const vi = first[HeaderId.via] as number;
  const ci = first[HeaderId.cseq] as number;
  const li = first[HeaderId.contentLength] as number;
  // RFC 3261 §8.1.1: Via, Call-ID, CSeq, From, To are mandatory (the general parser says which)
  if (vi < 0 || ci < 0 || (first[HeaderId.callId] as number) < 0 || li < 0) return undefined;
  if ((first[HeaderId.from] as number) < 0 || (first[HeaderId.to] as number) < 0) return undefined;
  // RFC 3261 §18.3: Content-Length frames the body
  const avail = b.length - bodyStart;
  const len = decimal(b, t, li);
  if (len < 0 || len > avail || (len < avail && !datagram)) return undefined;
  if (!isAscii(b)) return undefined;
  const msg = routable(buf, s, t, method, us, ue, status);
  if (msg === undefined) return undefined;
  msg.setBodyView(buf, bodyStart, bodyStart + len);
  msg.setWire(0);
  return msg;
}

/**
 * The message with the values routing needs parsed and seeded, as checkRouting does it, or
 * undefined when one is malformed (the general parser then reports it). A request has its
 * `method` and Request-URI s[us, ue); a response its `status` line.
 */
function routable(
  buf: Buffer,
  s: string,
  t: number[],
  method: string | undefined,
  us: number,
  ue: number,
  status: StartLine | undefined,
): SipMessage | undefined {
  const b = buf;
  const first = FIRST;
  const vi = first[HeaderId.via] as number;
  const ci = first[HeaderId.cseq] as number;
  const ii = first[HeaderId.callId] as number;
  const v0 = t[vi * 3 + 1] as number;
  const v1 = t[vi * 3 + 2] as number;
  const via = fastVia(b, s, v0, v1) ?? parseViaBytes(b, s, v0, v1, true);
  if (typeof via === 'string') return undefined;
  // (the request's method is the first bytes of the message)
  const cseq = parseCSeqBytes(b, s, t[ci * 3 + 1] as number, t[ci * 3 + 2] as number, method, 0);
  // RFC 3261 §8.1.1.5: the CSeq method matches the request method
  if (cseq === undefined || (method !== undefined && cseq.method !== method)) return undefined;
  const cs = valueStart(b, t, ii);
  const ce = valueEnd(b, t, ii, cs);
  if (ce === cs) return undefined;
  const callId = s.slice(cs, ce);
  let mf: number | null = null;
  const mi = first[HeaderId.maxForwards] as number;
  if (mi >= 0) {
    mf = decimal(b, t, mi);
    // RFC 3261 §20.22: Max-Forwards is 0-255
    if (mf < 0 || mf > 255) return undefined;
  }
  const headers = SipHeaders.fromParsed(s, b, t, true);
  let msg: SipMessage;
  if (method !== undefined) {
    const u = parseUriBytes(b, s, us, ue);
    // RFC 3261 §16.3: the Request-URI is what a proxy routes on, so it must parse
    if (typeof u === 'string' || u.scheme === '') return undefined;
    const req = new SipRequest(method, s.slice(us, ue), headers);
    req.seedRequestUri(u);
    msg = req;
  } else if (status !== undefined && status.kind === 'response')
    msg = new SipResponse(status.status, status.reason, headers);
  else return undefined;
  msg.seedCache(via, cseq, callId, mf);
  return msg;
}
