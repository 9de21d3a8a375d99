/**
 * A flat copy of a string. Strings sliced out of a parsed message keep the whole message text
 * alive in V8; bindings live for an hour, so what they keep is copied once at registration.
 */
export function detachString(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
