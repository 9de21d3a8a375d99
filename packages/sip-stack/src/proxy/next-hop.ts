/** Where a forwarded request goes (RFC 3261 §16.6 item 7, RFC 3263 §4): a lazy list of targets. */
import { isIP } from 'node:net';
import type { SipResolver } from '../dns/sip-resolver.js';
import type { SipTargetIterator } from '../dns/sip-target-iterator.js';
import { isSipUri, parseUri, type SipUri } from '../message/sip-uri.js';
import type { Target, TransportProtocol } from '../transport/transport.js';

/** Hands out next-hop targets one at a time; the next one after a failure (RFC 3263 §4.3). */
export interface NextHops {
  next(): Promise<Target | undefined>;
}

const NONE: NextHops = { next: () => Promise.resolve(undefined) };

function once(target: Target): NextHops {
  let used = false;
  return {
    next: () => {
      if (used) return Promise.resolve(undefined);
      used = true;
      return Promise.resolve(target);
    },
  };
}

/** RFC 3263 §4.1: the transport a URI names (transport parameter, sips scheme); UDP for sip. */
export function uriProtocol(uri: SipUri): TransportProtocol | undefined {
  const secure = uri.scheme === 'sips';
  const t = uri.params.get('transport')?.toLowerCase();
  if (t === undefined || t === null) return secure ? 'tls' : 'udp';
  if (t === 'udp') return secure ? undefined : 'udp';
  if (t === 'tcp') return secure ? 'tls' : 'tcp';
  if (t === 'tls') return 'tls';
  if (t === 'ws') return secure ? 'wss' : 'ws';
  if (t === 'wss') return 'wss';
  return undefined;
}

function fromIterator(it: SipTargetIterator, flowId: string | undefined): NextHops {
  return {
    next: async () => {
      const r = await it.nextTarget();
      if (r === undefined) return undefined;
      const t: Target = { protocol: r.protocol, address: r.address, port: r.port };
      if (r.serverName !== undefined) t.serverName = r.serverName;
      if (flowId !== undefined) t.flowId = flowId;
      return t;
    },
  };
}

/**
 * Next hops for a forwarded copy: the explicit target; else the URI (top Route or Request-URI):
 * an IP literal directly, a host name through RFC 3263.
 */
export function nextHops(
  uri: string,
  explicit: Target | undefined,
  flowId: string | undefined,
  resolver: () => SipResolver,
): NextHops {
  if (explicit !== undefined)
    return once(
      flowId !== undefined && explicit.flowId === undefined ? { ...explicit, flowId } : explicit,
    );
  const parsed = parseUri(uri);
  if (!parsed.ok || !isSipUri(parsed.uri)) return NONE;
  const u = parsed.uri;
  const host = u.host.startsWith('[') ? u.host.slice(1, -1) : u.host;
  if (isIP(host) !== 0) {
    // RFC 3263 §4.2: a numeric host needs no DNS: the URI port or the transport's default.
    const protocol = uriProtocol(u);
    if (protocol === undefined) return NONE;
    const port = u.port ?? (protocol === 'tls' || protocol === 'wss' ? 5061 : 5060);
    const t: Target = { protocol, address: host, port };
    if (flowId !== undefined) t.flowId = flowId;
    return once(t);
  }
  return fromIterator(resolver().targets(u), flowId);
}
