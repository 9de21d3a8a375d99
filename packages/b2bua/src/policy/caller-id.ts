/**
 * The identity an outgoing leg presents: From (display name, number, host), privacy (RFC 3323),
 * P-Asserted-Identity toward trusted trunks (RFC 3325) and E.164 numbers.
 */
import { formatUri, isSipUri, isTelUri, parseUri } from '@switchboard/sip-stack';
import type { HeaderValues, NameAddr, SipRequest } from '@switchboard/sip-stack';
import { normalizeE164, type E164Options } from './e164.js';

export interface CallerIdPolicy {
  /** Number presented instead of the caller's (e.g. the trunk's main number). */
  number?: string;
  /** Display name presented instead of the caller's ('' removes it). */
  displayName?: string;
  /** Host of the From URI (e.g. the carrier's domain); default: the caller's From host. */
  fromHost?: string;
  /** RFC 3323: 'id' hides the caller (anonymous From, Privacy: id). */
  privacy?: 'none' | 'id';
  /** RFC 3325: send P-Asserted-Identity with the (real) caller number; for trusted trunks only. */
  assertIdentity?: boolean;
  /** Normalise the caller's and the callee's numbers to E.164. */
  e164?: E164Options;
}

export interface OutboundIdentity {
  uri: string;
  from: string;
  to: string;
  headers: HeaderValues;
}

function quoteDisplay(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The URI with its user part (or tel number) normalised; unchanged when it is not a number. */
export function normalizeUriNumber(uri: string, e164: E164Options | undefined): string {
  if (e164 === undefined) return uri;
  const parsed = parseUri(uri);
  if (!parsed.ok) return uri;
  const u = parsed.uri;
  if (isTelUri(u)) {
    const n = normalizeE164(u.number, e164);
    return n.ok ? formatUri({ ...u, number: n.number }) : uri;
  }
  if (isSipUri(u) && u.user !== undefined) {
    const n = normalizeE164(u.user, e164);
    return n.ok ? formatUri({ ...u, params: u.params, headers: u.headers, user: n.number }) : uri;
  }
  return uri;
}

function callerParts(from: NameAddr): { user: string | undefined; host: string | undefined } {
  const parsed = parseUri(from.uri);
  if (!parsed.ok) return { user: undefined, host: undefined };
  if (isSipUri(parsed.uri)) return { user: parsed.uri.user, host: parsed.uri.host };
  if (isTelUri(parsed.uri)) return { user: parsed.uri.number, host: undefined };
  return { user: undefined, host: undefined };
}

/** From, To, Request-URI and identity headers for a leg toward `target` on behalf of `incoming`. */
export function outboundIdentity(
  incoming: SipRequest,
  target: string,
  policy: CallerIdPolicy = {},
  defaultHost = 'invalid',
): OutboundIdentity {
  const caller = callerParts(incoming.from);
  let number = policy.number ?? caller.user;
  if (number !== undefined && policy.e164 !== undefined) {
    const n = normalizeE164(number, policy.e164);
    if (n.ok) number = n.number;
  }
  const host = policy.fromHost ?? caller.host ?? defaultHost;
  const display = policy.displayName ?? incoming.from.displayName;
  const callerUri = number === undefined ? `sip:${host}` : `sip:${number}@${host}`;
  const headers: Record<string, string> = {};
  let from: string;
  if (policy.privacy === 'id') {
    // RFC 3323 §4.1.1.3: an anonymous From; the real identity only in P-Asserted-Identity.
    from = '"Anonymous" <sip:anonymous@anonymous.invalid>';
    headers['Privacy'] = 'id';
  } else {
    from =
      display === undefined || display === ''
        ? `<${callerUri}>`
        : `${quoteDisplay(display)} <${callerUri}>`;
  }
  if (policy.assertIdentity === true) headers['P-Asserted-Identity'] = `<${callerUri}>`;
  const uri = normalizeUriNumber(target, policy.e164);
  return { uri, from, to: `<${uri}>`, headers };
}
