// CSeq header values (RFC 3261 §20.16).

import { TOKEN } from './header-values.js';
import { textBytes } from './text-bytes.js';

/** RFC 3261 §25.1 token bytes, 256 entries, module-local (TurboFan embeds a module's own table). */
const TOKEN_B = new Uint8Array(256);
TOKEN_B.set(TOKEN);

export interface CSeq {
  seq: number;
  method: string;
}

/** Parses a CSeq value "4711 INVITE" (RFC 3261 §20.16); undefined when malformed. */
export function parseCSeq(v: string): CSeq | undefined {
  return parseCSeqBytes(textBytes(v), v, 0, v.length, undefined);
}

/**
 * @internal parseCSeq on s[start, n) deciding on the bytes `b` (b[i] = s.charCodeAt(i)), without
 * slicing the value; `method`, when its text equals the CSeq method, is reused instead of slicing.
 * `methodAt`, when given, is where the bytes of `method` are in `b` (compared as bytes).
 */
export function parseCSeqBytes(
  b: Uint8Array,
  s: string,
  start: number,
  n: number,
  method: string | undefined,
  methodAt = -1,
): CSeq | undefined {
  let i = start;
  while (i < n && (b[i] as number) <= 32) i++;
  const ds = i;
  let seq = 0;
  while (i < n) {
    const c = (b[i] as number) - 48;
    if (c < 0 || c > 9) break;
    seq = seq * 10 + c;
    i++;
  }
  // RFC 3261 §8.1.1.5: the sequence number MUST be less than 2**31
  if (i === ds || i - ds > 10 || seq > 0x7fffffff) return undefined;
  const ms = i;
  while (i < n && (b[i] === 32 || b[i] === 9)) i++;
  if (i === ms) return undefined;
  let me = n;
  while (me > i && (b[me - 1] as number) <= 32) me--;
  if (me === i) return undefined;
  let same = method !== undefined && me - i === method.length;
  if (methodAt >= 0) {
    for (let k = i; k < me; k++) {
      const c = b[k] as number;
      if (TOKEN_B[c] !== 1) return undefined;
      if (c !== b[methodAt + k - i]) same = false;
    }
  } else {
    for (let k = i; k < me; k++) {
      const c = b[k] as number;
      if (TOKEN_B[c] !== 1) return undefined;
      if (same && c !== (method as string).charCodeAt(k - i)) same = false;
    }
  }
  return { seq, method: same ? (method as string) : s.slice(i, me) };
}
