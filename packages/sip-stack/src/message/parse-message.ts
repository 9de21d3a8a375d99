// parseMessage: bytes → SipRequest | SipResponse (RFC 3261 §7, §18.3, §25). Never throws.
// Decodes once as latin1 (byte offsets = string offsets): decisions are made on the bytes (typed
// array reads are much faster than charCodeAt), strings are sliced from the text. Lines are found
// with indexOf; only the names routing needs are classified and only their values parsed; other
// headers are classified, decoded and parsed on first access.

import { SipHeaders } from './sip-headers.js';
import { HeaderId } from './header-names.js';
import { parseDecimal } from './header-values.js';
import { crlf, scan, scanHeaders } from './header-scan.js';
import { parseStartLine, type StartLine } from './parse-start-line.js';
import { parseViaBytes, type Via } from './via.js';
import { SipRequest, SipResponse, type SipMessage } from './sip-message.js';
import { parseCSeq, parseCSeqBytes } from './cseq.js';
import type { ParseOptions, ParseResult, SipParseError, SipParseErrorCode } from './errors.js';
import { validateMessage } from './validate-message.js';
import { parseUriBytes } from './sip-uri.js';
import { fastParse } from './fast-parse.js';

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
    return parse(data, options, true);
  } catch {
    // last-resort guard: no input may throw out of the parser
    return fail('SIP_ERR_PARSE', 'unparseable message');
  }
}

/**
 * @internal parseMessage without its fast path: what every message gives on the general parser
 * alone (tests and equivalence checks compare the two). Never throws.
 */
export function parseMessageGeneral(data: Uint8Array, options?: ParseOptions): ParseResult {
  try {
    return parse(data, options, false);
  } catch {
    return fail('SIP_ERR_PARSE', 'unparseable message');
  }
}

function parse(data: Uint8Array, options: ParseOptions | undefined, fast: boolean): ParseResult {
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
  if (fast && decodeEnd === total && options?.strict !== true) {
    // the common well-formed message; anything else is decided by the general parser below
    const m = fastParse(buf, s, datagram);
    if (m !== undefined) return { ok: true, message: m };
  }
  let sl = crlf(s, buf, start);
  if (sl < 0) sl = s.length;
  const startLine = parseStartLine(s, buf, start, sl);
  if ('code' in startLine) return { ok: false, error: startLine };
  const table = scanHeaders(s, buf, sl + 2);
  const built = build(s, buf, startLine, table);
  if ('code' in built) return { ok: false, error: built };
  const req = built.kind === 'request' ? built : undefined;
  if (total > maxSize)
    return fail('SIP_ERR_TOO_LARGE', `message larger than ${maxSize} bytes`, 513, req);
  if (startLine.kind === 'request' && startLine.error !== undefined)
    return { ok: false, error: { ...startLine.error, request: built as SipRequest } };
  if (scan.bodyStart < 0) {
    return datagram
      ? fail('SIP_ERR_PARSE', 'missing empty line after headers', 400, req)
      : fail('SIP_ERR_INCOMPLETE', 'incomplete header section');
  }
  const problem =
    scan.problem ??
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

/** Builds the message and parses its top Via (needed to answer anything). */
function build(
  s: string,
  b: Uint8Array,
  start: StartLine,
  table: number[],
): SipMessage | SipParseError {
  const headers = SipHeaders.fromParsed(s, b, table);
  const vi = scan.first[HeaderId.via] as number;
  let topVia: Via | undefined;
  if (vi >= 0) {
    // parsed in place: LWS (folded CRLFs included) is skipped by the Via grammar itself
    const v0 = table[vi * 3 + 1] as number;
    const from = v0 < 0 ? ~v0 : v0;
    const r = parseViaBytes(b, s, from, table[vi * 3 + 2] as number, true);
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
  const v0 = table[i * 3 + 1] as number;
  if (v0 < 0) return parseDecimal(h.valueAt(i));
  let vs = v0;
  let ve = table[i * 3 + 2] as number;
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
    if ((scan.first[id] as number) < 0) return `missing ${REQUIRED_NAMES[id]} header`;
    // RFC 3261 §7.3.1: these are single-valued
    if ((scan.repeated & (1 << id)) !== 0) return `more than one ${REQUIRED_NAMES[id]} header`;
  }
  if ((scan.repeated & ((1 << HeaderId.maxForwards) | (1 << HeaderId.contentLength))) !== 0)
    return 'duplicate single-valued header';
  const ci = scan.first[HeaderId.cseq] as number;
  const c0 = table[ci * 3 + 1] as number;
  const method = msg.kind === 'request' ? msg.method : undefined;
  // (read in place unless folded: a byte above 0x7F fails the grammar either way)
  const cseq =
    c0 < 0
      ? parseCSeq(h.valueAt(ci))
      : parseCSeqBytes(b, s, c0, table[ci * 3 + 2] as number, method);
  if (cseq === undefined) return 'bad CSeq header';
  // RFC 3261 §8.1.1.5: the CSeq method must match the request method
  if (method !== undefined && cseq.method !== method)
    return 'CSeq method does not match the request method';
  const callId = h.peekAt(scan.first[HeaderId.callId] as number);
  // the word syntax of Call-ID is checked in strict mode; matching only needs the text
  if (callId.length === 0) return 'bad Call-ID header';
  let mf: number | null = null;
  const mfi = scan.first[HeaderId.maxForwards] as number;
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

/** RFC 3261 §18.3 framing: sets the message body or returns why it cannot. */
function attachBody(
  msg: SipMessage,
  s: string,
  table: number[],
  buf: Buffer,
  start: number,
  datagram: boolean,
): { reason: string; incomplete: boolean } | undefined {
  const bodyStart = scan.bodyStart;
  const avail = buf.length - bodyStart;
  const cli = scan.first[HeaderId.contentLength] as number;
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
  if (cli >= 0) msg.setWire(start);
  return undefined;
}
