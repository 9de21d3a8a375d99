/** RFC 3261 §16.4 Route information pre-processing, done in place on the proxy's request. */
import { parseNameAddr } from '../message/name-addr.js';
import type { SipRequest } from '../message/sip-message.js';
import { isSipUri, parseUri } from '../message/sip-uri.js';
import type { LocalIdentity } from './local-identity.js';

/** Marks the second of our two Record-Route entries (RFC 5658 §4: double Record-Route). */
export const DOUBLE_RR_PARAM = 'r2';

export interface PreprocessResult {
  /** A Route entry of ours was removed (the request follows a route set we are on). */
  poppedRoute: boolean;
  /** The Request-URI was one of our Record-Route URIs: the previous hop was a strict router. */
  strictPreviousHop: boolean;
}

function routeUri(value: string | undefined): { uri: string; r2: boolean } | undefined {
  if (value === undefined) return undefined;
  const na = parseNameAddr(value);
  if (!na.ok) return undefined;
  const parsed = parseUri(na.value.uri);
  const r2 = parsed.ok && isSipUri(parsed.uri) && parsed.uri.params.has(DOUBLE_RR_PARAM);
  return { uri: na.value.uri, r2 };
}

export function preprocessRoute(request: SipRequest, identity: LocalIdentity): PreprocessResult {
  const result: PreprocessResult = { poppedRoute: false, strictPreviousHop: false };
  const ruri = request.requestUri;
  const routes = request.headers.values('Route');
  // RFC 3261 §16.4: a Request-URI we placed in a Record-Route means a strict router sent it:
  // the last Route value becomes the Request-URI.
  if (routes.length > 0 && isSipUri(ruri) && ruri.user === undefined && identity.isLocalUri(ruri)) {
    const last = routeUri(routes.pop());
    if (last !== undefined) {
      request.uri = last.uri;
      if (routes.length > 0) request.headers.set('Route', routes);
      else request.headers.delete('Route');
      result.strictPreviousHop = true;
    }
  }
  // RFC 3261 §16.4: the first Route value naming this proxy is removed.
  const first = routeUri(request.headers.values('Route')[0]);
  if (first === undefined || !isOurs(first.uri, identity)) return result;
  request.headers.shiftValue('Route');
  result.poppedRoute = true;
  // RFC 5658 §4: with double Record-Route both of our entries are on top of the route set.
  const second = routeUri(request.headers.values('Route')[0]);
  if (second !== undefined && (first.r2 || second.r2) && isOurs(second.uri, identity))
    request.headers.shiftValue('Route');
  return result;
}

function isOurs(uri: string, identity: LocalIdentity): boolean {
  const parsed = parseUri(uri);
  return parsed.ok && identity.isLocalUri(parsed.uri);
}
