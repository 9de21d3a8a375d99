/** RFC 3261 §16.6 items 1–6: the copy of a request for one target (Via and send come later). */
import { parseNameAddr } from '../message/name-addr.js';
import type { SipRequest } from '../message/sip-message.js';
import { requestUriOf } from '../dialog/route-set.js';
import { isLooseRoute } from '../dialog/route-set.js';
import type { Target } from '../transport/transport.js';
import { takeUriAlias } from './contact-alias.js';
import type { ForwardTarget } from './route-decision.js';

/** RFC 3261 §16.6 item 3: the Max-Forwards a proxy adds when the request has none. */
export const DEFAULT_MAX_FORWARDS = 70;

export interface ForwardCopy {
  request: SipRequest;
  /** The URI the next hop is taken from: the top Route when present (item 7), else the Request-URI. */
  nextHop: string;
  /** Where the Request-URI's Contact alias says the UA really is (see contact-alias.ts). */
  aliasTarget?: Target;
}

/** Builds the forwarded copy; `received` is not changed. */
export function forwardCopy(received: SipRequest, target: ForwardTarget): ForwardCopy {
  // RFC 3261 §16.6 item 1: copy the request.
  const request = received.clone();
  // RFC 3261 §16.6 item 2: Request-URI = the target.
  request.uri = target.uri;
  // RFC 3261 §16.6 item 3: decrement Max-Forwards, or add it (70).
  const mf = received.maxForwards;
  request.maxForwards = mf === undefined ? DEFAULT_MAX_FORWARDS : Math.max(0, mf - 1);
  // RFC 3261 §16.6 item 5: header fields the routing decision adds.
  for (const [name, value] of Object.entries(target.headers ?? {})) {
    if (typeof value === 'string') request.headers.set(name, value);
    else if (value.length === 0) request.headers.delete(name);
    else request.headers.set(name, value);
  }
  const nextHop = postprocessRouting(request);
  if (target.target !== undefined || nextHop !== request.uri) return { request, nextHop };
  // Kamailio handle_ruri_alias: no Route left and our alias in the Request-URI: go to the alias.
  const alias = takeUriAlias(request.uri);
  if (alias === undefined) return { request, nextHop };
  request.uri = alias.uri;
  return { request, nextHop: alias.uri, aliasTarget: alias.target };
}

/**
 * RFC 3261 §16.6 item 6: a strict router as next hop gets the Route URI as Request-URI, with the
 * Request-URI appended as the last Route. Returns the URI the next hop is taken from (item 7).
 */
export function postprocessRouting(request: SipRequest): string {
  const values = request.headers.values('Route');
  const top = values[0];
  if (top === undefined) return request.uri;
  const na = parseNameAddr(top);
  if (!na.ok) return request.uri;
  if (isLooseRoute(na.value)) return na.value.uri;
  // RFC 3261 §16.6 item 6: strict router: Request-URI → last Route, top Route → Request-URI.
  values.shift();
  values.push(`<${request.uri}>`);
  request.headers.set('Route', values);
  request.uri = requestUriOf(na.value.uri);
  return request.uri;
}

/** RFC 3261 §16.6 item 4: Record-Route values go on top of any present (ours first in the list). */
export function addRecordRoute(request: SipRequest, uris: readonly string[]): void {
  for (let i = uris.length - 1; i >= 0; i--)
    request.headers.prepend('Record-Route', `<${uris[i]}>`);
}
