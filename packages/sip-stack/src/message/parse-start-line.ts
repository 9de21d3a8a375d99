// The start line of a SIP message: Request-Line or Status-Line (RFC 3261 §7.1, §7.2), read from
// the message bytes `b` and their latin1 text `s` (same offsets).

import { TOKEN } from './header-values.js';
import type { SipParseError } from './errors.js';

const SP = 32;

/** RFC 3261 §25.1 token bytes, 256 entries (no range check). */
const TOKEN_BYTES = new Uint8Array(256);
TOKEN_BYTES.set(TOKEN);

export type StartLine =
  | {
      kind: 'request';
      method: string;
      uri: string;
      /** Offset of the URI in the text, -1 when it was recovered from a malformed line. */
      uriStart: number;
      error: SipParseError | undefined;
    }
  | { kind: 'response'; status: number; reason: string };

// The version words compared unrolled, ASCII letters folded with `| 32` (a loop over a string's
// char codes costs several times more in V8).

/** True when b[i..] starts with "SIP/", letters in any case. */
function isSipSlash(b: Uint8Array, i: number): boolean {
  return (
    ((b[i] as number) | 32) === 115 &&
    ((b[i + 1] as number) | 32) === 105 &&
    ((b[i + 2] as number) | 32) === 112 &&
    b[i + 3] === 47
  );
}

/** True when b[i..] starts with "SIP/2.0", letters in any case. */
function isSip20(b: Uint8Array, i: number): boolean {
  return isSipSlash(b, i) && b[i + 4] === 50 && b[i + 5] === 46 && b[i + 6] === 48;
}

const VERSION = /^SIP\/\d+\.\d+$/i;

function parseStatusLine(
  s: string,
  b: Uint8Array,
  start: number,
  end: number,
): StartLine | SipParseError {
  let sp = s.indexOf(' ', start);
  if (sp < 0 || sp > end) sp = end;
  if (sp - start !== 7 || !isSip20(b, start)) {
    const version = s.slice(start, sp);
    if (VERSION.test(version))
      return { code: 'SIP_ERR_VERSION', reason: `unsupported version ${version}` };
    return { code: 'SIP_ERR_PARSE', reason: 'bad status line' };
  }
  let status = 0;
  for (let k = 1; k <= 3; k++) {
    const d = (b[sp + k] as number) - 48;
    if (d < 0 || d > 9 || sp + k >= end)
      return { code: 'SIP_ERR_PARSE', reason: 'bad status code' };
    status = status * 10 + d;
  }
  // RFC 3261 §7.2: Status-Code is 3DIGIT (100-699) followed by SP and the Reason-Phrase
  if (status < 100 || status > 699 || (sp + 4 < end && b[sp + 4] !== SP)) {
    return { code: 'SIP_ERR_PARSE', reason: 'bad status code' };
  }
  return { kind: 'response', status, reason: sp + 5 <= end ? s.slice(sp + 5, end) : '' };
}

/** Methods interned by the parser (no string allocated per message for them). */
const METHODS = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'REGISTER',
  'OPTIONS',
  'INFO',
  'UPDATE',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
  'MESSAGE',
  'PUBLISH',
];

/** Byte codes of METHODS (typed-array reads: no String#charCodeAt per byte). */
const METHOD_CODES = METHODS.map((m) => Uint8Array.from(m, (c) => c.charCodeAt(0)));

/** The method s[start, end) (case-sensitive, RFC 3261 §7.1), interned when it is a common one. */
function methodName(s: string, b: Uint8Array, start: number, end: number): string {
  const len = end - start;
  const c0 = b[start];
  for (let k = 0; k < METHOD_CODES.length; k++) {
    const m = METHOD_CODES[k] as Uint8Array;
    if (m.length !== len || m[0] !== c0) continue;
    let i = 1;
    while (i < len && m[i] === b[start + i]) i++;
    if (i === len) return METHODS[k] as string;
  }
  return s.slice(start, end);
}

/** RFC 3261 §7.1 Request-Line / §7.2 Status-Line, single SP separators; s[start, end). */
export function parseStartLine(
  s: string,
  b: Uint8Array,
  start: number,
  end: number,
): StartLine | SipParseError {
  if (end - start > 4 && isSipSlash(b, start)) return parseStatusLine(s, b, start, end);
  const sp1 = s.indexOf(' ', start);
  if (sp1 <= start || sp1 >= end) return { code: 'SIP_ERR_PARSE', reason: 'bad request line' };
  for (let i = start; i < sp1; i++) {
    if (TOKEN_BYTES[b[i] as number] !== 1) return { code: 'SIP_ERR_PARSE', reason: 'bad method' };
  }
  // RFC 3261 §7.1: single SPs; the Request-URI itself is validated by parseUri (checkRouting)
  const sp2 = s.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 >= end || sp2 === sp1 + 1)
    return looseRequest(s, start, sp1, end, 'bad request line');
  const method = methodName(s, b, start, sp1);
  const uri = s.slice(sp1 + 1, sp2);
  if (end - sp2 === 8 && isSip20(b, sp2 + 1))
    return { kind: 'request', method, uri, uriStart: sp1 + 1, error: undefined };
  const version = s.slice(sp2 + 1, end);
  // RFC 3261 §8.2.2 / §21.5.6: 505 for an unsupported version; anything else is malformed
  const error: SipParseError = VERSION.test(version)
    ? { code: 'SIP_ERR_VERSION', reason: `unsupported version ${version}`, status: 505 }
    : {
        code: 'SIP_ERR_PARSE',
        reason: version.indexOf(' ') >= 0 ? 'bad request line' : 'bad SIP version',
        status: 400,
      };
  return { kind: 'request', method, uri, uriStart: sp1 + 1, error };
}

/**
 * The method of the Request-Line s[0, end) when it has the common shape "METHOD SP Request-URI SP
 * SIP/2.0" (version upper-case), found without searching for the SPs (the line ends at `end`, a
 * CR): the Request-URI is then s[method.length + 1, end - 8). What parseStartLine gives for it,
 * without its object. The URI is not checked for SP here: the caller parses it, and every URI
 * grammar refuses SP. Undefined for anything else (parseStartLine then decides).
 */
export function fastRequestLine(s: string, b: Uint8Array, end: number): string | undefined {
  let i = 0;
  while (TOKEN_BYTES[b[i] as number] === 1) i++;
  if (b[i] !== SP || i === 0) return undefined;
  const v = end - 8;
  // (exact "SIP/2.0": other spellings are left to parseStartLine)
  if (v <= i + 1 || b[v] !== SP || b[v + 1] !== 83 || b[v + 2] !== 73 || b[v + 3] !== 80)
    return undefined;
  if (b[v + 4] !== 47 || b[v + 5] !== 50 || b[v + 6] !== 46 || b[v + 7] !== 48) return undefined;
  return methodName(s, b, 0, i);
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
    uriStart: -1,
    error: { code: 'SIP_ERR_PARSE', reason, status: 400 },
  };
}
