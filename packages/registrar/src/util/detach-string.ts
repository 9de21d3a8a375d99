/**
 * A flat copy of a string. Strings sliced out of a parsed message keep the whole message text
 * alive in V8; bindings live for an hour, so what they keep is copied once at registration.
 * The copy goes through one reused buffer (UTF-8 both ways, so any string survives it).
 */
interface Utf8Codec {
  utf8Write(s: string, offset: number): number;
  utf8Slice(start: number, end: number): string;
}

let scratch = Buffer.allocUnsafe(4096);

export function detachString(s: string): string {
  // V8 copies substrings shorter than 13 characters instead of slicing them
  if (s.length < 13) return s;
  if (s.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(s.length * 3);
  // Buffer#utf8Write / #utf8Slice (undocumented, stable): write()/toString() minus the dispatch
  const codec = scratch as unknown as Utf8Codec;
  return codec.utf8Slice(0, codec.utf8Write(s, 0));
}
