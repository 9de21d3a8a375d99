/**
 * NAT handling of bindings (Kamailio `fix_nated_register` style, RFC 3581): when a REGISTER came
 * from an address other than its Contact's, the source is kept as `received` and requests go
 * there (through the NAT pinhole, over the same flow). Also the Contact alias of Kamailio
 * (`;alias=ip~port~proto`) for proxies that carry the target inside the Request-URI.
 */
import { isIP } from 'node:net';
import {
  DEFAULT_PORTS,
  formatUri,
  isSipUri,
  isStreamProtocol,
  parseUri,
  protocolFromViaTransport,
  type Flow,
  type SipUri,
  type Target,
  type TransportProtocol,
} from '@switchboard/sip-stack';
import type { ReceivedAddress } from '../location/binding.js';

/** `auto`: detect (address or port differs); `always`: always use the source; `never`: trust the Contact. */
export type NatMode = 'auto' | 'always' | 'never';

export interface BindingRoute {
  target?: Target;
  received?: ReceivedAddress;
  /** The binding cannot be reached once its flow closes. */
  needsFlow: boolean;
}

/** IP literal without brackets, IPv6 in canonical form; undefined for host names. */
export function ipLiteral(host: string): string | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family === 6) return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  return undefined;
}

/** The transport names as constants: a binding keeps the shared string, not a slice of a URI. */
const PROTOCOLS = new Map<string, TransportProtocol>(
  (Object.keys(DEFAULT_PORTS) as TransportProtocol[]).map((p) => [p, p]),
);

/** The address, port and transport a SIP URI with an IP literal host names (RFC 3263 §4 without DNS). */
export function uriTarget(uri: string | SipUri): Target | undefined {
  let u: SipUri;
  if (typeof uri === 'string') {
    const r = parseUri(uri);
    if (!r.ok || !isSipUri(r.uri)) return undefined;
    u = r.uri;
  } else u = uri;
  const address = ipLiteral(u.host);
  if (address === undefined) return undefined;
  const t = u.params.get('transport');
  const named = t === undefined || t === null ? undefined : protocolFromViaTransport(t);
  const protocol: TransportProtocol | undefined =
    t === undefined || t === null
      ? u.scheme === 'sips'
        ? 'tls'
        : 'udp'
      : named === undefined
        ? undefined
        : PROTOCOLS.get(named);
  if (protocol === undefined) return undefined;
  return { protocol, address, port: u.port ?? DEFAULT_PORTS[protocol] };
}

/** Back over the flow the REGISTER came on (RFC 5626 §5.3, or the NAT pinhole). */
export function flowTarget(flow: Flow): Target {
  return {
    protocol: flow.protocol,
    address: flow.remote.address,
    port: flow.remote.port,
    ...(flow.flowId === undefined ? {} : { flowId: flow.flowId }),
  };
}

function sameIp(a: string, b: string): boolean {
  return a === b || (ipLiteral(a) ?? a) === (ipLiteral(b) ?? b);
}

export interface RouteOptions {
  outbound: boolean;
  /** The Contact URI already parsed (saves parsing it again). */
  parsedUri?: SipUri | undefined;
  path?: readonly string[] | undefined;
  nat: NatMode;
}

/** Where requests for a binding go, and whether it came through a NAT. */
export function routeBinding(
  contactUri: string,
  source: Flow,
  options: RouteOptions,
): BindingRoute {
  const first = options.path?.[0];
  if (first !== undefined) {
    // RFC 3327 §5.3: requests follow the stored Path; the edge proxy knows the flow.
    const hop = /<([^>]*)>/.exec(first)?.[1] ?? first.trim();
    const target = uriTarget(hop);
    return { ...(target === undefined ? {} : { target }), needsFlow: false };
  }
  const stream = isStreamProtocol(source.protocol);
  // RFC 5626 §6: requests for an outbound binding go over its flow.
  if (options.outbound) {
    const target = flowTarget(source);
    if (options.nat === 'never') return { target, needsFlow: stream };
    const received: ReceivedAddress = {
      protocol: source.protocol,
      address: source.remote.address,
      port: source.remote.port,
    };
    return { target, received, needsFlow: stream };
  }
  const contact = uriTarget(options.parsedUri ?? contactUri);
  const differs =
    contact === undefined
      ? stream || /\.invalid(?::\d+)?(?:[;?>]|$)/i.test(contactUri)
      : !sameIp(contact.address, source.remote.address) || contact.port !== source.remote.port;
  const nated = options.nat === 'always' || (options.nat === 'auto' && differs);
  if (nated) {
    // one object serves as both: a Target is a ReceivedAddress with the flow
    const target = flowTarget(source);
    return { target, received: target, needsFlow: stream };
  }
  if (contact === undefined) return { needsFlow: false };
  // the same address as the source: keep one string for both
  if (contact.address === source.remote.address) contact.address = source.remote.address;
  return { target: contact, needsFlow: false };
}

const ALIAS_PROTO: Readonly<Record<TransportProtocol, string>> = {
  udp: '1',
  tcp: '2',
  tls: '3',
  ws: '5',
  wss: '6',
};

/** The Contact URI with Kamailio's `;alias=ip~port~proto` naming where it really is. */
export function withContactAlias(uri: string, received: ReceivedAddress): string {
  const r = parseUri(uri);
  if (!r.ok || !isSipUri(r.uri)) return uri;
  const params = new Map(r.uri.params);
  const host = received.address.includes(':') ? `[${received.address}]` : received.address;
  params.set('alias', `${host}~${received.port}~${ALIAS_PROTO[received.protocol]}`);
  return formatUri({ ...r.uri, headers: r.uri.headers, params });
}

/** The target named by a Contact alias, if the URI has a well-formed one. */
export function contactAliasTarget(uri: string): Target | undefined {
  const r = parseUri(uri);
  if (!r.ok || !isSipUri(r.uri)) return undefined;
  const m = /^(.+)~(\d{1,5})~([1-6])$/.exec(r.uri.params.get('alias') ?? '');
  if (m === null) return undefined;
  const address = ipLiteral(m[1] as string);
  const protocol = (Object.keys(ALIAS_PROTO) as TransportProtocol[]).find(
    (p) => ALIAS_PROTO[p] === m[3],
  );
  const port = Number(m[2]);
  if (address === undefined || protocol === undefined || port < 1 || port > 65535) return undefined;
  return { protocol, address, port };
}
