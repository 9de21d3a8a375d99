// The header-section scan of parseMessage (RFC 3261 §7.3): one pass over the lines of the message
// bytes `b` and their latin1 text `s` (same offsets). Line ends are found with String#indexOf
// (native memchr), names are checked and classified on the bytes, values are not touched.

import { classifyHeaderName, HeaderId } from './header-names.js';
import { TOKEN } from './header-values.js';
import { lineKey } from './header-lines.js';

const SP = 32;
const HT = 9;

/** RFC 3261 §25.1 token bytes, 256 entries (no range check in the scan loop). */
const TOKEN_BYTES = new Uint8Array(256);
TOKEN_BYTES.set(TOKEN);

/** Most header ids + 1 (HeaderId values are small integers). */
const IDS = 16;

/**
 * Result of the last scanHeaders call (module scratch: parsing is synchronous and never
 * re-entered).
 */
export const scan = {
  /** Index of the first line per HeaderId, -1 when there is none. */
  first: new Int32Array(IDS),
  /** Bit (1 << id) set for each HeaderId seen on more than one line. */
  repeated: 0,
  /** The first structural problem found, if any. */
  problem: undefined as string | undefined,
  /** Offset of the body (after the empty line), or -1 when the header section is incomplete. */
  bodyStart: -1,
};

/** Texts from this length on may have line keys that are not small integers (start * 16 + id). */
export const MAX_SMI_START = 2 ** 27;

/** Reused position table (packed small integers); each scan returns a copy of its used part. */
let table: number[] = new Array<number>(256).fill(0);

/** Index of the next CRLF at or after `from` (bare LFs are line content), or -1. */
export function crlf(s: string, b: Uint8Array, from: number): number {
  for (;;) {
    const lf = s.indexOf('\n', from);
    if (lf < 0) return -1;
    if (lf > 0 && b[lf - 1] === 13) return lf - 1;
    from = lf + 1;
  }
}

/**
 * The colon of header line b[pos, eol) when its name is a token followed by optional SP/HT
 * (RFC 3261 §7.3.1 HCOLON), or -1 with scan.problem set; the rules spelled out for lines the
 * fast path in scanHeaders did not accept.
 */
function slowColon(s: string, b: Uint8Array, pos: number, eol: number): number {
  const colon = s.indexOf(':', pos);
  if (colon < 0 || colon > eol) {
    scan.problem ??= 'header line without ":"';
    return -1;
  }
  let ne = colon;
  while (ne > pos && (b[ne - 1] === SP || b[ne - 1] === HT)) ne--;
  for (let i = pos; i < ne; i++) {
    if (TOKEN_BYTES[b[i] as number] !== 1) ne = pos;
  }
  if (ne === pos) {
    scan.problem ??= 'bad header name';
    return -1;
  }
  return colon;
}

/**
 * Splits header lines from `pos` up to the empty line (continuation lines stay in their line,
 * RFC 3261 §7.3.1) into the position table SipHeaders adopts: per line its key (start and
 * HeaderId, see lineKey), value start (~offset when folded) and end (its CRLF). Only the names routing needs are
 * classified; values are not read.
 */
export function scanHeaders(s: string, b: Uint8Array, pos: number): number[] {
  const first = scan.first;
  for (let id = 0; id < IDS; id++) first[id] = -1;
  let repeated = 0;
  scan.problem = undefined;
  scan.bodyStart = -1;
  const n = s.length;
  // (line keys past 2 ** 31 are not small integers: such a table is not the shared one, so that
  // one keeps its elements kind)
  const shared = n < MAX_SMI_START;
  let t = shared ? table : new Array<number>(256).fill(0);
  let k = 0;
  let line = 0;
  if (pos < n && (b[pos] === SP || b[pos] === HT)) {
    scan.problem = 'continuation line after the start line';
  }
  while (pos < n) {
    // the name: token bytes, optional SP/HT, ":" (none of these is CR or LF)
    let c = b[pos] as number;
    let i = pos;
    while (TOKEN_BYTES[c] === 1) c = b[++i] as number;
    const ne = i;
    if (ne === pos && c === 13 && b[pos + 1] === 10 && pos + 1 < n) {
      scan.bodyStart = pos + 2;
      break;
    }
    while (c === SP || c === HT) c = b[++i] as number;
    let colon = c === 58 && ne > pos && i < n ? i : -1;
    let eol = crlf(s, b, colon < 0 ? pos : colon + 1);
    let folded = false;
    // RFC 3261 §7.3.1: a line starting with SP/HT continues the previous line
    while (eol >= 0) {
      // (s may stop before the end of b: bytes past it are not part of the message text)
      const f = eol + 2 < n ? b[eol + 2] : -1;
      if (f !== SP && f !== HT) break;
      folded = true;
      eol = crlf(s, b, eol + 2);
    }
    if (eol < 0) eol = n;
    let id: HeaderId = HeaderId.other;
    if (colon >= 0) id = classifyHeaderName(b, pos, ne);
    else {
      colon = slowColon(s, b, pos, eol);
      if (colon >= 0) {
        let e = colon;
        while (b[e - 1] === SP || b[e - 1] === HT) e--;
        id = classifyHeaderName(b, pos, e);
      }
    }
    if (colon >= 0) {
      if (id !== HeaderId.other) {
        if ((first[id] as number) < 0) first[id] = line;
        else repeated |= 1 << id;
      }
      if (k + 3 > t.length) {
        t = t.concat(new Array<number>(t.length).fill(0));
        if (shared) table = t;
      }
      t[k] = lineKey(pos, id);
      t[k + 1] = folded ? ~(colon + 1) : colon + 1;
      t[k + 2] = eol;
      k += 3;
      line++;
    }
    pos = eol + 2;
  }
  scan.repeated = repeated;
  return t.slice(0, k);
}
