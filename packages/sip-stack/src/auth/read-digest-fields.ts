/**
 * The fast path for the Authorization values every registrar and proxy reads: one pass over a
 * plain `Digest` value straight into its directives, with no map and no object per parameter.
 * It reads only the common, plain form (lower-case directive names it knows, each once; quoted
 * values without quoted-pairs; no line folding); for anything else it answers undefined and the
 * caller takes the general parser (`parseAuthParams`), which then decides, so both paths accept
 * and refuse exactly the same values.
 */
import { textBytes } from '../message/text-bytes.js';
import type { DigestFields } from './digest-credentials.js';

/** Longest quoted value taken here, as `parseAuthParams` (longer: its slow path decides). */
const MAX_VALUE_LENGTH = 8192;

const TAB = 0x09;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const EQUALS = 0x3d;

/** Directive names read here, by length; a name's bit in the "seen" mask is 1 << its index. */
const NAMES = [
  'username',
  'realm',
  'nonce',
  'uri',
  'response',
  'algorithm',
  'cnonce',
  'nc',
  'qop',
  'opaque',
  'userhash',
] as const;
const BY_LENGTH: number[][] = [];
NAMES.forEach((name, index) => (BY_LENGTH[name.length] ??= []).push(index));

/** The bit of the directive name at value[start, end), 0 when it is not one read here. */
function nameBit(value: string, start: number, end: number): number {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return 0;
  for (const index of candidates)
    if (value.startsWith(NAMES[index] as string, start)) return 1 << index;
  return 0;
}

/** Directive-name characters of the fast path: a-z and "-". */
function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || c === 0x2d;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** The directives of a plain Digest value; undefined when `parseAuthParams` must decide. */
export function readDigestFields(value: string): DigestFields | undefined {
  const n = value.length;
  if (n < 8 || value.indexOf('\\') >= 0) return undefined;
  // a shared scratch buffer, longer than the value: read it below `n` only
  const b = textBytes(value);
  let i = 0;
  while (i < n && isSpace(b[i] as number)) i++;
  // the scheme, case-insensitively (RFC 7235 §2.1), then at least one space
  if (
    value.slice(i, i + 6).toLowerCase() !== 'digest' ||
    !(i + 6 < n && isSpace(b[i + 6] as number))
  )
    return undefined;
  i += 7;
  const f: DigestFields = {};
  let seen = 0;
  for (;;) {
    while (i < n && (isSpace(b[i] as number) || b[i] === COMMA)) i++;
    if (i >= n) return seen === 0 ? undefined : f;
    const start = i;
    while (i < n && isNameChar(b[i] as number)) i++;
    const bit = nameBit(value, start, i);
    if (bit === 0 || (seen & bit) !== 0) return undefined;
    seen |= bit;
    while (i < n && isSpace(b[i] as number)) i++;
    if (i >= n || b[i] !== EQUALS) return undefined;
    i++;
    while (i < n && isSpace(b[i] as number)) i++;
    let v: string;
    if (i < n && b[i] === QUOTE) {
      const close = value.indexOf('"', i + 1);
      if (close < 0 || close - i - 1 > MAX_VALUE_LENGTH) return undefined;
      v = value.slice(i + 1, close);
      i = close + 1;
    } else {
      const from = i;
      while (i < n) {
        const c = b[i] as number;
        if (c === COMMA || c === QUOTE || isSpace(c) || c < 0x20) break;
        i++;
      }
      if (i === from) return undefined;
      v = value.slice(from, i);
    }
    set(f, bit, v);
    while (i < n && isSpace(b[i] as number)) i++;
    if (i < n && b[i] !== COMMA) return undefined;
  }
}

function set(f: DigestFields, bit: number, v: string): void {
  if (bit === 1) f.username = v;
  else if (bit === 2) f.realm = v;
  else if (bit === 4) f.nonce = v;
  else if (bit === 8) f.uri = v;
  else if (bit === 16) f.response = v;
  else if (bit === 32) f.algorithm = v;
  else if (bit === 64) f.cnonce = v;
  else if (bit === 128) f.nc = v;
  else if (bit === 256) f.qop = v;
  else if (bit === 512) f.opaque = v;
  else f.userhash = v;
}
