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

/** Fields found by fastViaParams (module scratch, read right after the call). */
export const fast = {
  branch: undefined as string | undefined,
  received: undefined as string | undefined,
  rport: undefined as number | null | undefined,
};

/**
 * `*( ";" name [ "=" value ] )` from `i` for the common shape: no LWS, lower-case token names,
 * token/host values (no quotes), a valid branch/received/rport. Sets `fast` and returns where it
 * stopped (`n`, or a comma when `comma`), or -1 when the general parseViaParams must decide.
 */
export function fastViaParams(
  b: Uint8Array,
  s: string,
  i: number,
  n: number,
  comma: boolean,
): number {
  const f = fast;
  f.branch = undefined;
  f.received = undefined;
  f.rport = undefined;
  while (i < n) {
    let c = b[i];
    if (c !== 59 /* ; */) return comma && c === 44 ? i : -1;
    const ns = ++i;
    c = b[i];
    while (LOWER_TOKEN_B[c as number] === 1 && i < n) c = b[++i];
    const len = i - ns;
    if (len === 0) return -1;
    const c0 = b[ns];
    if (c !== 61 /* = */ || i >= n) {
      // a flag: only rport may come without a value (RFC 3581 §3)
      if (len === 5 && c0 === 114 && isWord(b, ns, 5, 'rport')) f.rport = null;
      // (branch and received need a value: the general scanner reports it)
      else if (len === 6 || len === 8) return -1;
      continue;
    }
    const vs = ++i;
    c = b[i];
    while (PVALUE_B[c as number] === 1 && i < n) c = b[++i];
    if (i === vs) return -1;
    if (len === 6 && c0 === 98 && isWord(b, ns, 6, 'branch')) f.branch = s.slice(vs, i);
    else if (len === 8 && c0 === 114 && isWord(b, ns, 8, 'received')) f.received = s.slice(vs, i);
    else if (len === 5 && c0 === 114 && isWord(b, ns, 5, 'rport')) {
      if (i - vs > 5) return -1;
      let p = 0;
      for (let k = vs; k < i; k++) {
        const d = (b[k] as number) - 48;
        if (d < 0 || d > 9) return -1;
        p = p * 10 + d;
      }
      if (p > 65535) return -1;
      f.rport = p;
    }
  }
  return i;
}

/** True when b[i, i + word.length) is the lower-case `word` exactly. */
function isWord(b: Uint8Array, i: number, len: number, word: string): boolean {
  if (len !== word.length) return false;
  for (let k = 0; k < len; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** Interned names of the common via-params (no allocation); other names sliced. */
function knownParam(b: Uint8Array, s: string, start: number, end: number): string {
  const len = end - start;
  const c = b[start];
  if (c === 98 && isWord(b, start, len, 'branch')) return 'branch';
  if (c === 114 && isWord(b, start, len, 'rport')) return 'rport';
  if (c === 114 && isWord(b, start, len, 'received')) return 'received';
  return s.slice(start, end);
}

/** The interned name when b[start, end) is branch, rport or received, else '' (no allocation). */
function knownOnly(b: Uint8Array, start: number, end: number): string {
  const len = end - start;
  const c = b[start];
  if (c === 98 && isWord(b, start, len, 'branch')) return 'branch';
  if (c === 114 && isWord(b, start, len, 'rport')) return 'rport';
  if (c === 114 && isWord(b, start, len, 'received')) return 'received';
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
