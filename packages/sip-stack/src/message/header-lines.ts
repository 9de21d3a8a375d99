// Helpers of SipHeaders for lines read from the wire (RFC 3261 §7.3): name lookup, value
// decoding (trim, unfold, UTF-8) and allocation-free edits of the per-line arrays.

import { headerInfo, lookupHeaderName, HeaderId, type HeaderInfo } from './header-names.js';

/**
 * Columns per line in the position table: key (line start * 16 + HeaderId; the start is -1 for
 * lines added or changed through the API), value start (bitwise-inverted when folded), end.
 */
export const COLS = 3;

/** The position-table key of a line starting at `start` (-1: not from the wire) with id `id`. */
export function lineKey(start: number, id: HeaderId): number {
  return start * 16 + id;
}

/** The HeaderId in a line key (`&` keeps the low bits of any safe integer: 16 divides 2 ** 32). */
export function keyId(key: number): HeaderId {
  return (key & 15) as HeaderId;
}

/** The line start in a line key (-1 for lines added or changed through the API). */
export function keyStart(key: number): number {
  return Math.floor(key / 16);
}

/** Headers whose values contain commas that do not separate values (RFC 3261 §7.3.1). */
const NOT_LISTS = new Set([
  'www-authenticate',
  'authorization',
  'proxy-authenticate',
  'proxy-authorization',
  'authentication-info',
  'date',
  'retry-after',
  'subject',
  'user-agent',
  'server',
  'organization',
  'timestamp',
  'call-id',
  'cseq',
  'content-length',
  'content-type',
  'max-forwards',
  'from',
  'to',
  'identity',
]);

/** Any character outside ASCII (U+0080 and up). */
export const NON_ASCII = /[\u0080-\uffff]/;
const FOLD = /[ \t]*\r\n[ \t]+/g;

/** arr.splice(at, 0, v) without splice's allocation (arrays here are short). */
export function insertAt<T>(arr: T[], at: number, v: T): void {
  arr.push(v);
  for (let k = arr.length - 1; k > at; k--) arr[k] = arr[k - 1] as T;
  arr[at] = v;
}

/** arr.splice(at, 1) without splice's allocation. */
export function removeAt<T>(arr: T[], at: number): void {
  for (let k = at; k < arr.length - 1; k++) arr[k] = arr[k + 1] as T;
  arr.pop();
}

/** True when a header of that lower-case key is never split at commas. */
export function isNotList(key: string): boolean {
  return NOT_LISTS.has(key);
}

/** True when b[from, to) has no byte above 0x7F. */
export function asciiBytes(b: Uint8Array, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if ((b[k] as number) > 127) return false;
  return true;
}

/**
 * Info of the wire line starting at `start` whose value starts at `v0` (~offset when folded):
 * the name ends at the colon, minus whitespace (RFC 3261 §7.3.1 HCOLON).
 */
export function wireLineInfo(s: string, start: number, v0: number): HeaderInfo {
  let ne = (v0 < 0 ? ~v0 : v0) - 1;
  while (ne > start && (s.charCodeAt(ne - 1) === 32 || s.charCodeAt(ne - 1) === 9)) ne--;
  return lookupHeaderName(s, start, ne) ?? headerInfo(s.slice(start, ne));
}

/**
 * The value of a wire line, from `v0` (~offset when folded) to `end`: trimmed, unfolded, and
 * UTF-8 decoded when `bytes` (the received bytes, given when the message is not all ASCII) has a
 * byte above 0x7F in it.
 */
export function wireValue(
  s: string,
  bytes: Uint8Array | undefined,
  v0: number,
  end: number,
): string {
  let vs = v0 < 0 ? ~v0 : v0;
  let ve = end;
  while (vs < ve && s.charCodeAt(vs) <= 32) vs++;
  while (ve > vs && (s.charCodeAt(ve - 1) === 32 || s.charCodeAt(ve - 1) === 9)) ve--;
  let value = s.slice(vs, ve);
  // RFC 3261 §7.3.1: a folded line is equivalent to one SP
  if (v0 < 0) value = value.replace(FOLD, ' ');
  // RFC 3261 §7.3.1: header text is UTF-8 (the source is its latin1 reading)
  if (bytes !== undefined && !asciiBytes(bytes, vs, ve))
    value = Buffer.from(value, 'latin1').toString('utf8');
  return value;
}

/** What serializeLines reads from SipHeaders. */
export interface LineSource {
  valueAt(i: number): string;
  nameAt(i: number): string;
}

/**
 * The header block as a latin1 "binary" string (each line ending in CRLF) from the position table
 * `pos` over `src` (see SipHeaders), with Content-Length set to `bodyLength`. Unchanged lines are
 * copied from the source verbatim, runs of adjacent unchanged lines in one slice.
 */
export function serializeLines(
  h: LineSource,
  pos: readonly number[],
  src: string,
  bodyLength: number,
): string {
  let out = '';
  let runStart = -1;
  let runEnd = -1;
  let sawLength = false;
  const n = pos.length / COLS;
  for (let i = 0; i < n; i++) {
    const key = pos[i * COLS] as number;
    const id = keyId(key);
    let rs = key < 0 ? -1 : keyStart(key);
    if (id === HeaderId.contentLength) {
      sawLength = true;
      if (h.valueAt(i) !== String(bodyLength)) rs = -1;
    }
    if (rs >= 0) {
      if (rs === runEnd + 2 && runStart >= 0) runEnd = pos[i * COLS + 2] as number;
      else {
        if (runStart >= 0) out += src.slice(runStart, runEnd + 2);
        runStart = rs;
        runEnd = pos[i * COLS + 2] as number;
      }
      continue;
    }
    if (runStart >= 0) {
      out += src.slice(runStart, runEnd + 2);
      runStart = -1;
    }
    if (id === HeaderId.contentLength) {
      out += 'Content-Length: ' + bodyLength + '\r\n';
      continue;
    }
    let value = h.valueAt(i);
    // user-supplied text is UTF-8 on the wire
    if (NON_ASCII.test(value)) value = Buffer.from(value, 'utf8').toString('latin1');
    out += h.nameAt(i) + ': ' + value + '\r\n';
  }
  if (runStart >= 0) out += src.slice(runStart, runEnd + 2);
  if (!sawLength) out += 'Content-Length: ' + bodyLength + '\r\n';
  return out;
}
