import { formatNameAddr, type NameAddr } from '../message/name-addr.js';
import { formatUri, isSipUri, parseUri } from '../message/sip-uri.js';

/** Request-URI and Route values for a request inside a dialog. */
export interface RequestRouting {
  uri: string;
  route: string[];
}

/** RFC 3261 §16.4 / §19.1.1: a route whose URI carries `lr` is a loose router. */
export function isLooseRoute(route: NameAddr): boolean {
  const parsed = parseUri(route.uri);
  return parsed.ok && isSipUri(parsed.uri) && parsed.uri.params.has('lr');
}

/**
 * RFC 3261 §12.2.1.1: empty route set → Request-URI = remote target, no Route. First route loose
 * (lr) → Request-URI = remote target, Route = route set. First route strict → Request-URI = first
 * route's URI (minus parameters not allowed there), Route = the rest, then the remote target.
 */
export function routeRequest(remoteTarget: string, routeSet: readonly NameAddr[]): RequestRouting {
  const first = routeSet[0];
  if (first === undefined) return { uri: remoteTarget, route: [] };
  if (isLooseRoute(first)) return { uri: remoteTarget, route: routeSet.map(formatNameAddr) };
  // RFC 3261 §12.2.1.1: strict router (lr absent).
  const route = routeSet.slice(1).map(formatNameAddr);
  route.push(`<${remoteTarget}>`);
  return { uri: requestUriOf(first.uri), route };
}

/** RFC 3261 §19.1.1 Table 1: `method` and headers are not allowed in a Request-URI. */
export function requestUriOf(uri: string): string {
  const parsed = parseUri(uri);
  if (!parsed.ok || !isSipUri(parsed.uri)) return uri;
  const u = parsed.uri;
  if (!u.params.has('method') && u.headers.size === 0) return uri;
  u.params.delete('method');
  u.headers.clear();
  return formatUri(u);
}
