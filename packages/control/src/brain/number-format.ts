import type { NumberTransform } from '../store/directory.js';
import type { CallParty } from './brain.js';

const ANONYMOUS_USERS = new Set([
  'anonymous',
  'restricted',
  'unknown',
  'unavailable',
  'private',
  '',
]);

/**
 * True when the caller hides its identity: RFC 3323 §4.1.1.3 (anonymous From, host
 * anonymous.invalid) or a Privacy: id request (RFC 3325 §9.3).
 */
export function isAnonymousCaller(from: CallParty, privacy: boolean | undefined): boolean {
  if (privacy === true) return true;
  if (from.host.toLowerCase() === 'anonymous.invalid') return true;
  return ANONYMOUS_USERS.has(from.user.toLowerCase());
}

/**
 * A dialled string as international digits: visual separators dropped, a leading `+` or `00`
 * removed. Undefined when it is not a plausible PSTN number (3–15 digits, E.164).
 */
export function normalizeNumber(dialled: string): string | undefined {
  let d = dialled.replace(/[\s().-]/g, '');
  if (d.startsWith('+')) d = d.slice(1);
  else if (d.startsWith('00')) d = d.slice(2);
  return /^[0-9]{3,15}$/.test(d) ? d : undefined;
}

/** The DID form of a dialled string (E.164 without `+`), or undefined. */
export function didForm(dialled: string): string | undefined {
  const d = normalizeNumber(dialled);
  return d !== undefined && d.length >= 6 && !d.startsWith('0') ? d : undefined;
}

/** Strip leading digits, then prepend; `add_plus` puts a `+` in front. */
export function applyTransform(number: string, t: NumberTransform | null): string {
  if (t === null) return number;
  let out = number;
  if (typeof t.strip === 'number' && t.strip > 0) out = out.slice(Math.min(t.strip, out.length));
  if (typeof t.prepend === 'string') out = `${t.prepend}${out}`;
  if (t.add_plus === true && !out.startsWith('+')) out = `+${out}`;
  return out;
}
