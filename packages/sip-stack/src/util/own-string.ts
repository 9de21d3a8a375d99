/**
 * V8 makes a substring of 13 characters or more a view into its parent: a tag or id sliced from
 * a received message keeps the whole message text alive for as long as it is kept. Things kept
 * for a long time (a transaction waiting out Timer L, 32 s) store `ownString(value)` instead.
 */

/** Below this length V8 copies a substring: it is its own string already. */
const SLICE_MIN = 13;

/** `s` with a backing store of its own (a flat copy when `s` may be a view into a larger string). */
export function ownString(s: string): string;
export function ownString(s: string | undefined): string | undefined;
export function ownString(s: string | undefined): string | undefined {
  if (s === undefined || s.length < SLICE_MIN) return s;
  // (slicing a concatenation flattens it into a new string first: the result views that one)
  return (' ' + s).slice(1);
}
