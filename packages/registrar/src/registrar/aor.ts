/**
 * Address-of-record canonicalisation (RFC 3261 §10.3 step 5) and the identity of Contact URIs
 * (§19.1.4 comparison, reduced to a string key).
 */
import {
  isSipUri,
  parseUri,
  type ParseUriResult,
  type SipUri,
  type Uri,
} from '@switchboard/sip-stack';

/** A canonical address-of-record: registrations are scoped by domain (`1002@a` ≠ `1002@b`). */
export interface Aor {
  /** Unescaped user part ('' when the URI has none). */
  user: string;
  /** Lower-cased host (IPv6 with brackets). */
  domain: string;
  /** `user@domain` (or `domain` without a user): the index into the location service. */
  key: string;
}

export type AorResult = { ok: true; aor: Aor } | { ok: false; reason: string };

/** %XX → character; undefined when an escape is malformed or yields a control character. */
export function unescapeUriPart(s: string): string | undefined {
  let out: string;
  try {
    out = s.includes('%') ? decodeURIComponent(s) : s;
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(out) ? undefined : out;
}

/** RFC 3261 §10.3 step 5: every URI parameter dropped, escapes unescaped; sip and sips alike. */
export function canonicalAor(uri: Uri | string): AorResult {
  let parsed: Uri;
  if (typeof uri === 'string') {
    const r = parseUri(uri);
    if (!r.ok) return { ok: false, reason: `bad URI: ${r.reason}` };
    parsed = r.uri;
  } else parsed = uri;
  if (!isSipUri(parsed))
    return { ok: false, reason: 'address-of-record must be a SIP or SIPS URI' };
  const user = unescapeUriPart(parsed.user ?? '');
  if (user === undefined) return { ok: false, reason: 'bad escape in user part' };
  const domain = parsed.host.toLowerCase();
  if (domain === '') return { ok: false, reason: 'empty host' };
  return { ok: true, aor: { user, domain, key: user === '' ? domain : `${user}@${domain}` } };
}

/** Parses an AOR key back (`user@domain`). */
export function aorFromKey(key: string): Aor {
  const at = key.lastIndexOf('@');
  return at < 0
    ? { user: '', domain: key, key }
    : { user: key.slice(0, at), domain: key.slice(at + 1), key };
}

/** URI parameters that take part in SIP URI equality (RFC 3261 §19.1.4). */
const COMPARED_PARAMS = ['maddr', 'method', 'transport', 'ttl', 'user'] as const;

function sipUriKey(u: SipUri): string {
  const user = unescapeUriPart(u.user ?? '') ?? u.user ?? '';
  let key = `${u.scheme}:${user}`;
  if (u.password !== undefined) key += `:${u.password}`;
  key += `@${u.host.toLowerCase()}`;
  // §19.1.4: a URI with an explicit port differs from one without
  if (u.port !== undefined) key += `:${u.port}`;
  for (const name of COMPARED_PARAMS) {
    const v = u.params.get(name);
    if (v !== undefined) key += `;${name}=${(v ?? '').toLowerCase()}`;
  }
  return key;
}

/** A string equal for two Contact URIs that RFC 3261 §19.1.4 calls equal (for sip/sips). */
export function contactUriKey(uri: string): string {
  return contactKeyOf(uri, parseUri(uri));
}

/** contactUriKey of a URI already parsed. */
export function contactKeyOf(uri: string, parsed: ParseUriResult): string {
  if (parsed.ok && isSipUri(parsed.uri)) return sipUriKey(parsed.uri);
  return uri.trim().toLowerCase();
}
