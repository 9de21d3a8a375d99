// parseMessage: bytes → SipRequest | SipResponse (RFC 3261 §7, §18.3, §25). Never throws.
// Decodes once as latin1 (byte offsets = string offsets): decisions are made on the bytes (typed
// array reads are much faster than charCodeAt), strings are sliced from the text. Lines are found
// with indexOf; only the names routing needs are classified and only their values parsed; other
// headers are classified, decoded and parsed on first access.

import { isAscii } from 'node:buffer';
import { SipHeaders } from './sip-headers.js';
import { classifyHeaderName, HeaderId } from './header-names.js';
import { TOKEN, parseDecimal, valueEnd } from './header-values.js';
import { parseStartLine, type StartLine } from './parse-start-line.js';
import { parseViaBytes, type Via } from './via.js';
import {
  SipRequest,
  SipResponse,
  parseCSeq,
  parseCSeqBytes,
  type SipMessage,
} from './sip-message.js';
import type { ParseOptions, ParseResult, SipParseError, SipParseErrorCode } from './errors.js';
import { validateMessage } from './validate-message.js';
import { parseUriBytes } from './sip-uri.js';

const SP = 32;
const HT = 9;

/** Node's Buffer#latin1Slice (undocumented, stable since v0.x): skips toString's dispatch. */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

function fail(
  code: SipParseErrorCode,
  reason: string,
  status?: number,
  request?: SipRequest,
): ParseResult {
  const error: SipParseError = { code, reason };
  if (status !== undefined) error.status = status;
  if (request !== undefined) error.request = request;
  return { ok: false, error };
}

/** Parses one SIP message. Never throws. */
export function parseMessage(data: Uint8Array, options?: ParseOptions): ParseResult {
  try {
    return parse(data, options);
  } catch {
    // last-resort guard: no input may throw out of the parser
    return fail('SIP_ERR_PARSE', 'unparseable message');
  }
}

function parse(data: Uint8Array, options: ParseOptions | undefined): ParseResult {
  const maxSize = options?.maxSize ?? 65536;
  const datagram = options?.datagram ?? true;
  // (a Buffer has latin1Slice: cheaper to ask than Buffer.isBuffer's instanceof)
  const buf =
    typeof (data as Partial<Latin1Slicer>).latin1Slice === 'function'
      ? (data as Buffer)
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const total = buf.length;
  let start = 0;
  // RFC 3261 §7.5: CRLFs before the start line are ignored
  while (start + 1 < total && buf[start] === 13 && buf[start + 1] === 10) start += 2;
  if (start >= total - 1)
    return fail(datagram ? 'SIP_ERR_PARSE' : 'SIP_ERR_INCOMPLETE', 'empty message');
  let decodeEnd = Math.min(total, maxSize);
  if (decodeEnd > 4096) {
    // large message: decode only the header section
    const he = buf.indexOf(CRLFCRLF, start);
    if (he >= 0 && he + 4 < decodeEnd) decodeEnd = he + 4;
  }
  const s = (buf as unknown as Latin1Slicer).latin1Slice(0, decodeEnd);
  let sl = crlf(s, buf, start);
  if (sl < 0) sl = s.length;
  const startLine = parseStartLine(s, buf, start, sl);
  if ('code' in startLine) return { ok: false, error: startLine };
  const table = scanHeaders(s, buf, sl);
  const built = build(s, buf, isAscii(buf), startLine, table);
  if ('code' in built) return { ok: false, error: built };
  const req = built.kind === 'request' ? built : undefined;
  if (total > maxSize)
    return fail('SIP_ERR_TOO_LARGE', `message larger than ${maxSize} bytes`, 513, req);
  if (startLine.kind === 'request' && startLine.error !== undefined)
    return { ok: false, error: { ...startLine.error, request: built as SipRequest } };
  if (scanBodyStart < 0) {
    return datagram
      ? fail('SIP_ERR_PARSE', 'missing empty line after headers', 400, req)
      : fail('SIP_ERR_INCOMPLETE', 'incomplete header section');
  }
  const problem =
    scanProblem ??
    checkRouting(built, s, buf, table, startLine.kind === 'request' ? startLine.uriStart : -1);
  if (problem !== undefined) return fail('SIP_ERR_PARSE', problem, 400, req);
  const bodyError = attachBody(built, s, table, buf, start, datagram);
  if (bodyError !== undefined)
    return bodyError.incomplete
      ? fail('SIP_ERR_INCOMPLETE', bodyError.reason)
      : fail('SIP_ERR_PARSE', bodyError.reason, 400, req);
  if (options?.strict === true) {
    const deep = validateMessage(built);
    if (!deep.ok) return fail('SIP_ERR_PARSE', deep.reason, 400, req);
  }
  return { ok: true, message: built };
}

/** Index of the next CRLF at or after `from` (bare LFs are line content), or -1. */
function crlf(s: string, b: Uint8Array, from: number): number {
  for (;;) {
    const lf = s.indexOf('\n', from);
    if (lf < 0) return -1;
    if (lf > 0 && b[lf - 1] === 13) return lf - 1;
    from = lf + 1;
  }
}

/** RFC 3261 §25.1 token bytes, 256 entries (no range check in the scan loop). */
const TOKEN_BYTES = new Uint8Array(256);
TOKEN_BYTES.set(TOKEN);

/** Most header ids + 1 (HeaderId values are small integers). */
const IDS = 16;

/**
 * Scan state of the message being parsed (module scratch: parsing is synchronous and never
 * re-entered). FIRST/COUNT: first line index and line count per HeaderId.
 */
const FIRST = new Int32Array(IDS);
const COUNT = new Int32Array(IDS);
let scanProblem: string | undefined;
/** Offset of the body (after the empty line), or -1 when the header section is incomplete. */
let scanBodyStart = -1;

/**
 * Colon offset of the header line b[pos, eol) when its name is a token (followed by optional
 * SP/HT), or -1 with scanProblem set. The common case is one pass over the name bytes.
 */
function nameColon(s: string, b: Uint8Array, pos: number, eol: number): number {
  let ne = pos;
  while (TOKEN_BYTES[b[ne] as number] === 1) ne++;
  let c = ne;
  while (b[c] === SP || b[c] === HT) c++;
  if (b[c] === 58 /* : */ && c < eol && ne > pos) return c;
  // the rules spelled out (and their error reasons) for anything unusual
  const colon = s.indexOf(':', pos);
  if (colon < 0 || colon > eol) {
    scanProblem ??= 'header line without ":"';
    return -1;
  }
  // RFC 3261 §7.3.1 HCOLON allows whitespace before the colon; the name is a token
  ne = colon;
  while (ne > pos && (b[ne - 1] === SP || b[ne - 1] === HT)) ne--;
  for (let i = pos; i < ne; i++) {
    if (TOKEN_BYTES[b[i] as number] !== 1) ne = pos;
  }
  if (ne === pos) {
    scanProblem ??= 'bad header name';
    return -1;
  }
  return colon;
}

/**
 * Splits header lines up to the empty line (continuation lines stay in their line, §7.3.1) into
 * the position table SipHeaders adopts: per line its start, value start (~offset when folded),
 * end (its CRLF) and HeaderId. Only the names routing needs are classified here.
 */
function scanHeaders(s: string, b: Uint8Array, sl: number): number[] {
  for (let k = 0; k < IDS; k++) {
    FIRST[k] = -1;
    COUNT[k] = 0;
  }
  scanProblem = undefined;
  scanBodyStart = -1;
  // sized for typical messages; longer ones grow it
  const table = new Array<number>(64);
  let lines = 0;
  let pos = sl + 2;
  const n = s.length;
  if (pos < n && (b[pos] === SP || b[pos] === HT)) {
    scanProblem = 'continuation line after the start line';
  }
  while (pos < n) {
    let eol = crlf(s, b, pos);
    if (eol === pos) {
      scanBodyStart = pos + 2;
      break;
    }
    let folded = false;
    // RFC 3261 §7.3.1: a line starting with SP/HT continues the previous line
    while (eol >= 0) {
      // (s may stop before the end of b: bytes past it are not part of the message text)
      const c = eol + 2 < n ? b[eol + 2] : -1;
      if (c !== SP && c !== HT) break;
      folded = true;
      eol = crlf(s, b, eol + 2);
    }
    if (eol < 0) eol = n;
    const colon = nameColon(s, b, pos, eol);
    if (colon >= 0) {
      let ne = colon;
      while (b[ne - 1] === SP || b[ne - 1] === HT) ne--;
      const id = classifyHeaderName(b, pos, ne);
      if (id !== HeaderId.other) {
        if (FIRST[id] === -1) FIRST[id] = lines;
        COUNT[id] = (COUNT[id] as number) + 1;
      }
      const k = lines * 4;
      table[k] = pos;
      table[k + 1] = folded ? ~(colon + 1) : colon + 1;
      table[k + 2] = eol;
      table[k + 3] = id;
      lines++;
    }
    pos = eol + 2;
  }
  table.length = lines * 4;
  return table;
}

/** Builds the message and parses its top Via (needed to answer anything). */
function build(
  s: string,
  b: Uint8Array,
  ascii: boolean,
  start: StartLine,
  table: number[],
): SipMessage | SipParseError {
  const headers = SipHeaders.fromParsed(s, ascii, table);
  const vi = FIRST[HeaderId.via] as number;
  let topVia: Via | undefined;
  if (vi >= 0) {
    // parsed in place: LWS (folded CRLFs included) is skipped by the Via grammar itself
    const v0 = table[vi * 4 + 1] as number;
    const from = v0 < 0 ? ~v0 : v0;
    const r = parseViaBytes(b, s, from, valueEnd(s, from, table[vi * 4 + 2]));
    if (typeof r !== 'string') topVia = r;
  }
  // RFC 3261 §8.1.1.7 / §18.2.1: without a top Via nothing can be sent back
  if (topVia === undefined)
    return { code: 'SIP_ERR_PARSE', reason: vi < 0 ? 'missing Via' : 'bad Via header' };
  const msg =
    start.kind === 'request'
      ? new SipRequest(start.method, start.uri, headers)
      : new SipResponse(start.status, start.reason, headers);
  msg.seedCache(topVia, undefined, undefined, undefined);
  return msg;
}

/** RFC 3261 §8.1.1: mandatory in every request (Max-Forwards and Via handled separately). */
const REQUIRED: readonly HeaderId[] = [HeaderId.callId, HeaderId.cseq, HeaderId.from, HeaderId.to];
const REQUIRED_NAMES = ['', '', 'CSeq', 'Call-ID', '', '', 'From', 'To'];

/**
 * Strict decimal value of line `i` (what parseDecimal(valueAt(i)) gives), read in place unless
 * the line is folded.
 */
function decimalAt(b: Uint8Array, h: SipHeaders, table: number[], i: number): number {
  const v0 = table[i * 4 + 1] as number;
  if (v0 < 0) return parseDecimal(h.valueAt(i));
  let vs = v0;
  let ve = table[i * 4 + 2] as number;
  while (vs < ve && (b[vs] as number) <= 32) vs++;
  while (ve > vs && (b[ve - 1] === SP || b[ve - 1] === HT)) ve--;
  if (ve === vs || ve - vs > 10) return -1;
  let n = 0;
  for (let k = vs; k < ve; k++) {
    const c = (b[k] as number) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** The checks routing and transactions rely on; RFC 3261 §16.3 step 1 ignores the rest. */
function checkRouting(
  msg: SipMessage,
  s: string,
  b: Uint8Array,
  table: number[],
  uriStart: number,
): string | undefined {
  const h = msg.headers;
  for (let k = 0; k < REQUIRED.length; k++) {
    const id = REQUIRED[k] as HeaderId;
    const c = COUNT[id] as number;
    if (c === 0) return `missing ${REQUIRED_NAMES[id]} header`;
    // RFC 3261 §7.3.1: these are single-valued
    if (c > 1) return `more than one ${REQUIRED_NAMES[id]} header`;
  }
  if ((COUNT[HeaderId.maxForwards] as number) > 1 || (COUNT[HeaderId.contentLength] as number) > 1)
    return 'duplicate single-valued header';
  const ci = FIRST[HeaderId.cseq] as number;
  const c0 = table[ci * 4 + 1] as number;
  const method = msg.kind === 'request' ? msg.method : undefined;
  const cseq =
    c0 < 0 || !ascii(b, c0, table[ci * 4 + 2] as number)
      ? parseCSeq(h.valueAt(ci))
      : parseCSeqBytes(b, s, c0, table[ci * 4 + 2] as number, method);
  if (cseq === undefined) return 'bad CSeq header';
  // RFC 3261 §8.1.1.5: the CSeq method must match the request method
  if (method !== undefined && cseq.method !== method)
    return 'CSeq method does not match the request method';
  const callId = h.peekAt(FIRST[HeaderId.callId] as number);
  // the word syntax of Call-ID is checked in strict mode; matching only needs the text
  if (callId.length === 0) return 'bad Call-ID header';
  let mf: number | null = null;
  const mfi = FIRST[HeaderId.maxForwards] as number;
  if (mfi >= 0) {
    mf = decimalAt(b, h, table, mfi);
    // RFC 3261 §20.22: Max-Forwards is 0-255
    if (mf < 0 || mf > 255) return 'bad Max-Forwards header';
  }
  msg.seedCache(msg.topVia as Via, cseq, callId, mf);
  if (msg.kind === 'request') {
    if (uriStart >= 0) {
      // parsed from the bytes in place; the same value the requestUri getter would compute
      const u = parseUriBytes(b, s, uriStart, uriStart + msg.uri.length);
      msg.seedRequestUri(typeof u === 'string' ? { scheme: '', raw: msg.uri } : u);
    }
    // RFC 3261 §16.3: the Request-URI is what a proxy routes on, so it must parse
    if (msg.requestUri.scheme === '') return 'bad Request-URI';
  }
  // From/To are parsed on first access (ParseOptions.strict validates them here)
  return undefined;
}

/** True when b[from, to) has no byte above 0x7F (a value the UTF-8 decoding leaves alone). */
function ascii(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if ((b[i] as number) > 127) return false;
  return true;
}

/** RFC 3261 §18.3 framing: sets the message body or returns why it cannot. */
function attachBody(
  msg: SipMessage,
  s: string,
  table: number[],
  buf: Buffer,
  start: number,
  datagram: boolean,
): { reason: string; incomplete: boolean } | undefined {
  const bodyStart = scanBodyStart;
  const avail = buf.length - bodyStart;
  const cli = FIRST[HeaderId.contentLength] as number;
  let len = avail;
  if (cli >= 0) {
    len = decimalAt(buf, msg.headers, table, cli);
    if (len < 0) return { reason: 'bad Content-Length header', incomplete: false };
    if (len > avail)
      return datagram
        ? { reason: 'body shorter than Content-Length', incomplete: false }
        : { reason: 'incomplete body', incomplete: true };
    // §18.3: a datagram's bytes after Content-Length are discarded; a stream frame must be exact
    if (len < avail && !datagram) return { reason: 'bytes after the body', incomplete: false };
  } else if (!datagram) {
    // §18.3: Content-Length is mandatory on stream transports
    return { reason: 'missing Content-Length on a stream', incomplete: false };
  }
  msg.setBodyView(buf, bodyStart, bodyStart + len);
  // unchanged messages re-serialise as their bytes, when those already carry the right length
  if (cli >= 0) msg.setWire(buf, start, bodyStart + len);
  return undefined;
}
