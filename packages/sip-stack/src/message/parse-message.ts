// parseMessage: bytes → SipRequest | SipResponse (RFC 3261 §7, §18.3, §25). Never throws.
// Decodes once as latin1 (byte offsets = string offsets), finds lines with indexOf, parses
// eagerly only what routing needs; other header values are decoded and parsed on first access.

import { isAscii } from 'node:buffer';
import { SipHeaders } from './sip-headers.js';
import { lookupHeaderName, headerInfo, HeaderId, type HeaderInfo } from './header-names.js';
import { TOKEN, isToken, parseDecimal, valueEnd } from './header-values.js';
import { parseViaAt, type Via } from './via.js';
import { SipRequest, SipResponse, parseCSeq, type SipMessage } from './sip-message.js';
import type { ParseOptions, ParseResult, SipParseError, SipParseErrorCode } from './errors.js';
import { validateMessage } from './validate-message.js';

const SP = 32;
const HT = 9;

type StartLine =
  | { kind: 'request'; method: string; uri: string; error: SipParseError | undefined }
  | { kind: 'response'; status: number; reason: string };

/** Header lines scanned from the head, plus the positions of the routing headers. */
interface Scan {
  infos: HeaderInfo[];
  /** Per line: start, value start (after the colon; ~offset when folded), end (its CRLF). */
  pos: number[];
  /** First line index per HeaderId (-1 when absent) and line counts. */
  first: number[];
  count: number[];
  problem: string | undefined;
  /** Offset of the body (after the empty line), or -1 when the header section is incomplete. */
  bodyStart: number;
}

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
  const buf = Buffer.isBuffer(data)
    ? data
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
  let sl = s.indexOf('\r\n', start);
  if (sl < 0) sl = s.length;
  const startLine = parseStartLine(s, start, sl);
  if ('code' in startLine) return { ok: false, error: startLine };
  const scan = scanHeaders(s, sl);
  const built = build(s, isAscii(buf), startLine, scan);
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
  const problem = scan.problem ?? checkRouting(built, scan);
  if (problem !== undefined) return fail('SIP_ERR_PARSE', problem, 400, req);
  const bodyError = attachBody(built, scan, buf, start, datagram);
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

/** True when s[i..] starts with the upper-case ASCII `word`, compared case-insensitively. */
function matchCi(s: string, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    const c = s.charCodeAt(i + k);
    const w = word.charCodeAt(k);
    if (c !== w && !(w >= 65 && w <= 90 && c === w + 32)) return false;
  }
  return true;
}

const VERSION = /^SIP\/\d+\.\d+$/i;

function parseStatusLine(s: string, start: number, end: number): StartLine | SipParseError {
  let sp = s.indexOf(' ', start);
  if (sp < 0 || sp > end) sp = end;
  if (sp - start !== 7 || !matchCi(s, start, 'SIP/2.0')) {
    const version = s.slice(start, sp);
    if (VERSION.test(version))
      return { code: 'SIP_ERR_VERSION', reason: `unsupported version ${version}` };
    return { code: 'SIP_ERR_PARSE', reason: 'bad status line' };
  }
  let status = 0;
  for (let k = 1; k <= 3; k++) {
    const d = s.charCodeAt(sp + k) - 48;
    if (d < 0 || d > 9 || sp + k >= end)
      return { code: 'SIP_ERR_PARSE', reason: 'bad status code' };
    status = status * 10 + d;
  }
  // RFC 3261 §7.2: Status-Code is 3DIGIT (100-699) followed by SP and the Reason-Phrase
  if (status < 100 || status > 699 || (sp + 4 < end && s.charCodeAt(sp + 4) !== SP)) {
    return { code: 'SIP_ERR_PARSE', reason: 'bad status code' };
  }
  return { kind: 'response', status, reason: sp + 5 <= end ? s.slice(sp + 5, end) : '' };
}

/** RFC 3261 §7.1 Request-Line / §7.2 Status-Line, single SP separators; s[start, end). */
function parseStartLine(s: string, start: number, end: number): StartLine | SipParseError {
  if (end - start > 4 && matchCi(s, start, 'SIP/')) return parseStatusLine(s, start, end);
  const bad: SipParseError = { code: 'SIP_ERR_PARSE', reason: 'bad request line' };
  const sp1 = s.indexOf(' ', start);
  if (sp1 <= start || sp1 >= end) return bad;
  for (let i = start; i < sp1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) return { code: 'SIP_ERR_PARSE', reason: 'bad method' };
  }
  // RFC 3261 §7.1: single SPs; the Request-URI itself is validated by parseUri (checkRouting)
  const sp2 = s.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 >= end || sp2 === sp1 + 1)
    return looseRequest(s, start, sp1, end, 'bad request line');
  const method = s.slice(start, sp1);
  const uri = s.slice(sp1 + 1, sp2);
  if (end - sp2 === 8 && matchCi(s, sp2 + 1, 'SIP/2.0'))
    return { kind: 'request', method, uri, error: undefined };
  const version = s.slice(sp2 + 1, end);
  // RFC 3261 §8.2.2 / §21.5.6: 505 for an unsupported version; anything else is malformed
  const error: SipParseError = VERSION.test(version)
    ? { code: 'SIP_ERR_VERSION', reason: `unsupported version ${version}`, status: 505 }
    : {
        code: 'SIP_ERR_PARSE',
        reason: version.indexOf(' ') >= 0 ? 'bad request line' : 'bad SIP version',
        status: 400,
      };
  return { kind: 'request', method, uri, error };
}

/**
 * A request line that is malformed after its method: a best-effort request (so the caller can
 * answer 400, RFC 4475 §3.1.2.7/§3.1.2.9), or plain garbage when no URI can be made out.
 */
function looseRequest(
  s: string,
  start: number,
  sp1: number,
  end: number,
  reason: string,
): StartLine | SipParseError {
  const rest = s.slice(sp1, end);
  const v = rest.toUpperCase().lastIndexOf(' SIP/');
  const uri = (v < 0 ? rest : rest.slice(0, v)).trim();
  if (uri.length === 0) return { code: 'SIP_ERR_PARSE', reason };
  return {
    kind: 'request',
    method: s.slice(start, sp1),
    uri,
    error: { code: 'SIP_ERR_PARSE', reason, status: 400 },
  };
}

/** Index of the next CRLF at or after `from` (bare LFs are line content), or -1. */
function crlf(s: string, from: number): number {
  for (;;) {
    const lf = s.indexOf('\n', from);
    if (lf < 0) return -1;
    if (lf > 0 && s.charCodeAt(lf - 1) === 13) return lf - 1;
    from = lf + 1;
  }
}

/** Splits header lines up to the empty line (continuation lines stay in their line, §7.3.1). */
function scanHeaders(s: string, sl: number): Scan {
  const scan: Scan = {
    infos: [],
    pos: [],
    first: [-1, -1, -1, -1, -1, -1, -1, -1],
    count: [0, 0, 0, 0, 0, 0, 0, 0],
    problem: undefined,
    bodyStart: -1,
  };
  let pos = sl + 2;
  const n = s.length;
  if (pos < n && (s.charCodeAt(pos) === SP || s.charCodeAt(pos) === HT)) {
    scan.problem = 'continuation line after the start line';
  }
  while (pos < n) {
    let eol = crlf(s, pos);
    if (eol === pos) {
      scan.bodyStart = pos + 2;
      return scan;
    }
    let folded = false;
    // RFC 3261 §7.3.1: a line starting with SP/HT continues the previous line
    while (eol >= 0) {
      const c = s.charCodeAt(eol + 2);
      if (c !== SP && c !== HT) break;
      folded = true;
      eol = crlf(s, eol + 2);
    }
    if (eol < 0) eol = n;
    addLine(s, pos, eol, folded, scan);
    pos = eol + 2;
  }
  return scan;
}

function addLine(s: string, pos: number, eol: number, folded: boolean, scan: Scan): void {
  const colon = s.indexOf(':', pos);
  if (colon < 0 || colon > eol) {
    scan.problem ??= 'header line without ":"';
    return;
  }
  let ne = colon;
  // RFC 3261 §7.3.1 HCOLON allows whitespace before the colon
  while (ne > pos && (s.charCodeAt(ne - 1) === SP || s.charCodeAt(ne - 1) === HT)) ne--;
  let info = lookupHeaderName(s, pos, ne);
  if (info === undefined) {
    const rawName = s.slice(pos, ne);
    if (!isToken(rawName)) {
      scan.problem ??= 'bad header name';
      return;
    }
    info = headerInfo(rawName);
  }
  const id = info.id;
  if (id !== HeaderId.other) {
    if (scan.first[id] === -1) scan.first[id] = scan.infos.length;
    (scan.count[id] as number)++;
  }
  scan.infos.push(info);
  scan.pos.push(pos, folded ? ~(colon + 1) : colon + 1, eol);
}

/** Builds the message and parses its top Via (needed to answer anything). */
function build(
  s: string,
  ascii: boolean,
  start: StartLine,
  scan: Scan,
): SipMessage | SipParseError {
  const headers = SipHeaders.fromParsed(s, ascii, scan.infos, [], scan.pos);
  const vi = scan.first[HeaderId.via] as number;
  let topVia: Via | undefined;
  if (vi >= 0) {
    // parsed in place: LWS (folded CRLFs included) is skipped by the Via grammar itself
    const v0 = scan.pos[vi * 3 + 1] as number;
    const from = v0 < 0 ? ~v0 : v0;
    const r = parseViaAt(s, from, valueEnd(s, from, scan.pos[vi * 3 + 2]));
    if (r.ok) topVia = r.value;
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

/** The checks routing and transactions rely on; RFC 3261 §16.3 step 1 ignores the rest. */
function checkRouting(msg: SipMessage, scan: Scan): string | undefined {
  const { first, count } = scan;
  const h = msg.headers;
  for (let k = 0; k < REQUIRED.length; k++) {
    const id = REQUIRED[k] as HeaderId;
    const c = count[id] as number;
    if (c === 0) return `missing ${REQUIRED_NAMES[id]} header`;
    // RFC 3261 §7.3.1: these are single-valued
    if (c > 1) return `more than one ${REQUIRED_NAMES[id]} header`;
  }
  if ((count[HeaderId.maxForwards] as number) > 1 || (count[HeaderId.contentLength] as number) > 1)
    return 'duplicate single-valued header';
  const cseq = parseCSeq(h.valueAt(first[HeaderId.cseq] as number));
  if (cseq === undefined) return 'bad CSeq header';
  // RFC 3261 §8.1.1.5: the CSeq method must match the request method
  if (msg.kind === 'request' && cseq.method !== msg.method)
    return 'CSeq method does not match the request method';
  const callId = h.valueAt(first[HeaderId.callId] as number);
  // the word syntax of Call-ID is checked in strict mode; matching only needs the text
  if (callId.length === 0) return 'bad Call-ID header';
  let mf: number | null = null;
  const mfi = first[HeaderId.maxForwards] as number;
  if (mfi >= 0) {
    mf = parseDecimal(h.valueAt(mfi));
    // RFC 3261 §20.22: Max-Forwards is 0-255
    if (mf < 0 || mf > 255) return 'bad Max-Forwards header';
  }
  msg.seedCache(msg.topVia as Via, cseq, callId, mf);
  // RFC 3261 §16.3: the Request-URI is what a proxy routes on, so it must parse
  if (msg.kind === 'request' && msg.requestUri.scheme === '') return 'bad Request-URI';
  // From/To are parsed on first access (ParseOptions.strict validates them here)
  return undefined;
}

/** RFC 3261 §18.3 framing: sets msg.body or returns why it cannot. */
function attachBody(
  msg: SipMessage,
  scan: Scan,
  buf: Buffer,
  start: number,
  datagram: boolean,
): { reason: string; incomplete: boolean } | undefined {
  const bodyStart = scan.bodyStart;
  const avail = buf.length - bodyStart;
  const cli = scan.first[HeaderId.contentLength] as number;
  let len = avail;
  if (cli >= 0) {
    len = parseDecimal(msg.headers.valueAt(cli));
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
  if (len > 0) msg.body = buf.subarray(bodyStart, bodyStart + len);
  // unchanged messages re-serialise as their bytes, when those already carry the right length
  if (cli >= 0) msg.setWire(buf, start, bodyStart + len);
  return undefined;
}
