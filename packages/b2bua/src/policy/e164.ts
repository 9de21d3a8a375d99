/**
 * Number normalisation to E.164 (ITU-T E.164, written with '+' as in RFC 3966): national and
 * international dialling prefixes are replaced by the country code. Untrusted input never throws.
 */

export interface E164Options {
  /** Country calling code of the account or trunk, without '+', e.g. '44' or '1'. */
  countryCode: string;
  /** International access prefix dialled before a country code (default '00'). */
  internationalPrefix?: string;
  /** Trunk prefix dialled before a national number (default '0'; '' when there is none, as in NANP). */
  nationalPrefix?: string;
  /** Length of a national significant number when no prefix is dialled (e.g. 10 for NANP). */
  nationalLength?: number;
}

export type E164Result = { ok: true; number: string } | { ok: false; reason: string };

/** Visual separators allowed in dialled numbers (RFC 3966 §5.1.1). */
const SEPARATORS = /[\s\-.()]/g;

/** '+' and 8 to 15 digits (E.164 §6: at most 15 digits). */
export function isE164(value: string): boolean {
  return /^\+[1-9]\d{6,14}$/.test(value);
}

export function normalizeE164(input: string, options: E164Options): E164Result {
  if (input.length > 64) return { ok: false, reason: 'number too long' };
  const dialled = input.replace(SEPARATORS, '');
  if (!/^\+?\d+$/.test(dialled)) return { ok: false, reason: `not a number: ${input}` };
  const cc = options.countryCode;
  if (!/^[1-9]\d{0,2}$/.test(cc)) return { ok: false, reason: `bad country code ${cc}` };
  const intl = options.internationalPrefix ?? '00';
  const national = options.nationalPrefix ?? '0';
  let candidate: string;
  if (dialled.startsWith('+')) candidate = dialled;
  else if (intl !== '' && dialled.startsWith(intl)) candidate = `+${dialled.slice(intl.length)}`;
  else if (national !== '' && dialled.startsWith(national))
    candidate = `+${cc}${dialled.slice(national.length)}`;
  else if (options.nationalLength !== undefined && dialled.length === options.nationalLength)
    candidate = `+${cc}${dialled}`;
  else if (dialled.startsWith(cc) && dialled.length > 7) candidate = `+${dialled}`;
  else return { ok: false, reason: `cannot tell the country of ${input}` };
  return isE164(candidate)
    ? { ok: true, number: candidate }
    : { ok: false, reason: `not E.164: ${candidate}` };
}
