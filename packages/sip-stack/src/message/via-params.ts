// via-params of a Via value (RFC 3261 §20.42, §25.1; RFC 3581 rport): the general scanner and a
// fast path for the common shape (";branch=...;rport", no LWS, lower-case names).

import { PVALUE, TOKEN } from './header-values.js';
import type { Via } from './via.js';

/** Byte tables (256 entries: no range check in the loops). */
const TOKEN_B = new Uint8Array(256);
TOKEN_B.set(TOKEN);
const PVALUE_B = new Uint8Array(256);
PVALUE_B.set(PVALUE);
/** Token bytes other than A-Z (names that need no lower-casing). */
const LOWER_TOKEN_B = TOKEN_B.slice();
LOWER_TOKEN_B.fill(0, 65, 91);

function skipWs(b: Uint8Array, i: number, end: number): number {
  for (;;) {
    const c = b[i];
    if (i >= end || (c !== 32 && c !== 9 && c !== 13 && c !== 10)) return i;
    i++;
  }
}

/**
 * Where fastViaParams found the fields (module scratch, read right after the call): branch and
 * received value spans (-1 when absent), then rport (-1 absent, -2 present without a value).
 * Offsets, not strings: storing young strings in a module object costs a write barrier each.
 */
export const fastAt = new Int32Array(5);

/**
 * `*( ";" name [ "=" value ] )` from `i` for the common shape: no LWS, lower-case token names,
 * token/host values (no quotes), a valid branch/received/rport. Sets `fastAt` and returns where it
 * stopped (`n`, or a comma when `comma`), or -1 when the general parseViaParams must decide.
 */
export function fastViaParams(
  b: Uint8Array,
  s: string,
  i: number,
  n: number,
  comma: boolean,
): number {
  const f = fastAt;
  f[0] = -1;
  f[2] = -1;
  f[4] = -1;
  while (i < n) {
    let c = b[i];
    if (c !== 59 /* ; */) return comma && c === 44 ? i : -1;
    const ns = ++i;
    c = b[i];
    while (LOWER_TOKEN_B[c as number] === 1 && i < n) c = b[++i];
    const len = i - ns;
    if (len === 0) return -1;
    if (c !== 61 /* = */ || i >= n) {
      // a flag: only rport may come without a value (RFC 3581 §3)
      if (isRport(b, ns, len)) f[4] = -2;
      // (branch and received need a value: the general scanner reports it)
      else if (len === 6 || len === 8) return -1;
      continue;
    }
    const vs = ++i;
    c = b[i];
    while (PVALUE_B[c as number] === 1 && i < n) c = b[++i];
    if (i === vs) return -1;
    if (isBranch(b, ns, len)) {
      f[0] = vs;
      f[1] = i;
    } else if (isReceived(b, ns, len)) {
      f[2] = vs;
      f[3] = i;
    } else if (isRport(b, ns, len)) {
      if (i - vs > 5) return -1;
      let p = 0;
      for (let k = vs; k < i; k++) {
        const d = (b[k] as number) - 48;
        if (d < 0 || d > 9) return -1;
        p = p * 10 + d;
      }
      if (p > 65535) return -1;
      f[4] = p;
    }
  }
  return i;
}

// The interned via-param names compared byte by byte, unrolled (a loop over a string's char
// codes costs several times more in V8).

/** True when b[i, i + len) is "branch". */
function isBranch(b: Uint8Array, i: number, len: number): boolean {
  return (
    len === 6 &&
    b[i] === 98 &&
    b[i + 1] === 114 &&
    b[i + 2] === 97 &&
    b[i + 3] === 110 &&
    b[i + 4] === 99 &&
    b[i + 5] === 104
  );
}

/** True when b[i, i + len) is "rport". */
function isRport(b: Uint8Array, i: number, len: number): boolean {
  return (
    len === 5 &&
    b[i] === 114 &&
    b[i + 1] === 112 &&
    b[i + 2] === 111 &&
    b[i + 3] === 114 &&
    b[i + 4] === 116
  );
}

/** True when b[i, i + len) is "received". */
function isReceived(b: Uint8Array, i: number, len: number): boolean {
  return (
    len === 8 &&
    b[i] === 114 &&
    b[i + 1] === 101 &&
    b[i + 2] === 99 &&
    b[i + 3] === 101 &&
    b[i + 4] === 105 &&
    b[i + 5] === 118 &&
    b[i + 6] === 101 &&
    b[i + 7] === 100
  );
}

/** Interned names of the common via-params (no allocation); other names sliced. */
function knownParam(b: Uint8Array, s: string, start: number, end: number): string {
  const len = end - start;
  if (isBranch(b, start, len)) return 'branch';
  if (isRport(b, start, len)) return 'rport';
  if (isReceived(b, start, len)) return 'received';
  return s.slice(start, end);
}

/** The interned name when b[start, end) is branch, rport or received, else '' (no allocation). */
function knownOnly(b: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (isBranch(b, start, len)) return 'branch';
  if (isRport(b, start, len)) return 'rport';
  if (isReceived(b, start, len)) return 'received';
  return '';
}

/** Index just past the closing quote of the quoted-string at `i` (a '"') before `end`, or -1. */
function quotedEnd(b: Uint8Array, i: number, end: number): number {
  for (let j = i + 1; j < end; j++) {
    const c = b[j];
    if (c === 92 /* \ */)
      j++; // RFC 3261 §25.1 quoted-pair
    else if (c === 34 /* " */) return j + 1;
  }
  return -1;
}

/** Where the last successful parseViaParams stopped (the end of the value). */
export let paramsEnd = 0;

/**
 * `*( SEMI via-params )`, setting the branch/received/rport fields of `v` and filling `params`
 * when given (names are sliced only then).
 */
export function parseViaParams(
  b: Uint8Array,
  s: string,
  i: number,
  n: number,
  v: Via,
  params: Map<string, string | null> | undefined,
  comma = false,
): string | null {
  for (;;) {
    i = skipWs(b, i, n);
    // (a comma outside quotes ends the value when the line may hold more Via values)
    if (i >= n || (comma && b[i] === 44)) {
      paramsEnd = i;
      return null;
    }
    if (b[i] !== 59 /* ; */) return 'expected ";" before Via parameter';
    i = skipWs(b, i + 1, n);
    const ns = i;
    let upper = false;
    for (; i < n; i++) {
      const c = b[i] as number;
      if (TOKEN_B[c] !== 1) break;
      if (c >= 65 && c <= 90) upper = true;
    }
    if (i === ns) return 'empty Via parameter name';
    const ne = i;
    const name = upper
      ? s.slice(ns, i).toLowerCase()
      : params !== undefined
        ? knownParam(b, s, ns, i)
        : knownOnly(b, ns, i);
    i = skipWs(b, i, n);
    let value: string | null = null;
    if (i < n && b[i] === 61 /* = */) {
      i = skipWs(b, i + 1, n);
      const vs = i;
      if (i < n && b[i] === 34 /* " */) {
        const e = quotedEnd(b, i, n);
        if (e < 0) return 'unterminated quoted string in Via parameter';
        i = e;
      } else {
        while (i < n && PVALUE_B[b[i] as number] === 1) i++;
      }
      if (i === vs) return `empty value for Via parameter "${s.slice(ns, ne).toLowerCase()}"`;
      // (only the values of the fields are needed while validating)
      value = params !== undefined || name !== '' ? s.slice(vs, i) : '';
    }
    if (params !== undefined) params.set(name, value);
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
