/**
 * Which worker owns a message: the worker named in a Call-ID we generated (`sbw<n>-…`), else a
 * hash of the Call-ID modulo the number of workers. Every message of a call (retransmissions,
 * CANCEL, ACK, in-dialog requests and all responses) carries the same Call-ID, so the worker
 * holding its transactions and dialog sees all of it. Read from raw bytes before any parsing.
 */
import { randomBytes } from 'node:crypto';

const CR = 13;
const LF = 10;
const COLON = 58;
const SP = 32;
const HT = 9;
const LOWER = 0x20;

/** A Call-ID owned by `worker` (RFC 3261 §8.1.1.4: globally unique; the prefix only routes it). */
export function clusterCallId(worker: number): string {
  return `sbw${worker}-${randomBytes(12).toString('base64url')}`;
}

/** 32-bit FNV-1a over bytes [start, end). */
export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Whether the header line at `i` is named Call-ID or its compact form `i` (RFC 3261 §7.3.3); returns the value start or -1. */
function callIdValueStart(b: Uint8Array, i: number, end: number): number {
  let j = i;
  const first = (b[j] ?? 0) | LOWER;
  if (first === 0x69 /* i */) {
    j++;
  } else if (first === 0x63 /* c */ && end - j > 7) {
    // "call-id", case-insensitive; '-' is unaffected by the lower-case bit
    const name = 'call-id';
    for (let k = 0; k < 7; k++) {
      const c = (b[j + k] ?? 0) | (k === 4 ? 0 : LOWER);
      if (c !== name.charCodeAt(k)) return -1;
    }
    j += 7;
  } else {
    return -1;
  }
  while (j < end && (b[j] === SP || b[j] === HT)) j++;
  return b[j] === COLON ? j + 1 : -1;
}

/**
 * The [start, end) byte range of the Call-ID value in a raw SIP message, or undefined when the
 * header section has none. Stops at the end of the header section; never throws.
 */
export function peekCallId(b: Uint8Array): [number, number] | undefined {
  const n = b.length;
  let i = 0;
  // skip the start line
  while (i < n && b[i] !== LF) i++;
  i++;
  while (i < n) {
    if (b[i] === CR || b[i] === LF) return undefined; // empty line: end of headers
    const v = callIdValueStart(b, i, n);
    let j = i;
    while (j < n && b[j] !== LF) j++;
    if (v >= 0) {
      let s = v;
      let e = j;
      while (s < e && (b[s] === SP || b[s] === HT)) s++;
      while (e > s && (b[e - 1] === CR || b[e - 1] === SP || b[e - 1] === HT)) e--;
      return s < e ? [s, e] : undefined;
    }
    i = j + 1;
  }
  return undefined;
}

/** The worker index encoded by `clusterCallId`, or -1. */
function encodedOwner(b: Uint8Array, s: number, e: number, workers: number): number {
  if (e - s < 5 || b[s] !== 0x73 || b[s + 1] !== 0x62 || b[s + 2] !== 0x77) return -1; // "sbw"
  let n = 0;
  let k = s + 3;
  for (; k < e && k < s + 6; k++) {
    const d = (b[k] ?? 0) - 0x30;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  if (k === s + 3 || b[k] !== 0x2d /* - */) return -1;
  return n % workers;
}

/** The owner of a raw message among `workers`, or undefined when it has no Call-ID (the receiver answers it). */
export function callIdOwner(bytes: Uint8Array, workers: number): number | undefined {
  const range = peekCallId(bytes);
  if (range === undefined) return undefined;
  const [s, e] = range;
  const encoded = encodedOwner(bytes, s, e, workers);
  return encoded >= 0 ? encoded : fnv1a(bytes, s, e) % workers;
}

/** The owner of a Call-ID string (same answer as `callIdOwner` on a message carrying it). */
export function ownerOfCallId(callId: string, workers: number): number {
  const b = Buffer.from(`X\r\nCall-ID: ${callId}\r\n\r\n`, 'utf8');
  return callIdOwner(b, workers) ?? 0;
}
