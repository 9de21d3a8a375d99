// Byte views of strings for the grammar scanners: reading a Uint8Array is several times faster
// than String#charCodeAt in V8, so the hot parsers decide on bytes and slice from the string.

/** Node's Buffer#latin1Write (undocumented, stable): skips write()'s encoding dispatch. */
interface Latin1Writer {
  latin1Write(s: string, offset: number): number;
}

/** Any UTF-16 code unit above U+00FF. */
const WIDE = /[\u0100-\uffff]/;

let scratch = Buffer.allocUnsafe(1024);

/**
 * The code units of `s` as bytes, b[i] = min(s.charCodeAt(i), 255): index-for-index the same
 * string, with every character above U+00FF read as 0xFF (which no grammar here treats specially,
 * like any non-ASCII character). Returns a shared scratch buffer valid until the next call:
 * only top-level parse entry points call it, never code running inside another parse.
 */
export function textBytes(s: string): Uint8Array {
  const n = s.length;
  if (n > scratch.length) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
  const b = scratch;
  if (n <= 32) {
    // short: a copy loop beats the native call's fixed cost
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      b[i] = c > 255 ? 255 : c;
    }
    return b;
  }
  (b as unknown as Latin1Writer).latin1Write(s, 0);
  if (WIDE.test(s)) {
    for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 255) b[i] = 255;
  }
  return b;
}
