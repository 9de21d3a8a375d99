/**
 * Which host:port values name this proxy (Route and Request-URI checks of RFC 3261 §16.4, our own
 * Via sent-by for loop detection §16.3 item 4) and the Record-Route URIs it inserts (§16.6 item 4).
 */
import { networkInterfaces } from 'node:os';
import type { Uri } from '../message/sip-uri.js';
import { isSipUri } from '../message/sip-uri.js';
import type { Via } from '../message/via.js';
import {
  formatHostPort,
  ipFamily,
  isWildcard,
  normaliseAddress,
  sameAddress,
} from '../transport/ip-address.js';
import type { Endpoint, ListeningPoint, TransportProtocol } from '../transport/transport.js';
import type { ProxyAlias, ProxyTransport } from './proxy-options.js';

/** RFC 3261 §19.1.2: 5061 for sips and TLS, 5060 otherwise. */
function defaultPort(secure: boolean): number {
  return secure ? 5061 : 5060;
}

function sameHost(a: string, b: string): boolean {
  if (ipFamily(a) !== 0 && ipFamily(b) !== 0) return sameAddress(a, b);
  return a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
}

const MEMO_LIMIT = 1024;

let interfaceAddresses: string[] | undefined;

/** Every address of this machine's interfaces: a wildcard listening point answers on each. */
function machineAddresses(): string[] {
  if (interfaceAddresses !== undefined) return interfaceAddresses;
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) out.push(a.address);
  return (interfaceAddresses = out);
}

export class LocalIdentity {
  readonly #transport: ProxyTransport;
  readonly #aliases: readonly ProxyAlias[];
  readonly #recordRouteHost: string | undefined;
  /** Answers per listening-point snapshot: the transport hands out the same array until it changes. */
  #cachedFor: readonly ListeningPoint[] | undefined;
  readonly #cache = new Map<string, unknown>();

  constructor(transport: ProxyTransport, aliases: readonly ProxyAlias[], recordRouteHost?: string) {
    this.#transport = transport;
    this.#aliases = aliases;
    this.#recordRouteHost = recordRouteHost;
  }

  /**
   * A memoised answer for the current listening points. Keys come from peers' bytes, so the cache
   * is bounded: it starts over when full.
   */
  #memo<T>(key: string, compute: () => T): T {
    const points = this.#transport.listeningPoints();
    if (this.#cachedFor !== points) {
      this.#cache.clear();
      this.#cachedFor = points;
    }
    if (this.#cache.has(key)) return this.#cache.get(key) as T;
    const value = compute();
    if (this.#cache.size >= MEMO_LIMIT) this.#cache.clear();
    this.#cache.set(key, value);
    return value;
  }

  /** Whether host (and port, default applied by the caller) names one of our listening points. */
  isLocal(host: string, port: number): boolean {
    return this.#memo(`l|${host}|${port}`, () => this.#isLocal(host, port));
  }

  #isLocal(host: string, port: number): boolean {
    for (const a of this.#aliases) {
      if (sameHost(a.host, host) && (a.port === undefined || a.port === port)) return true;
    }
    for (const lp of this.#transport.listeningPoints()) {
      const adv = lp.advertised;
      if (adv !== undefined && sameHost(adv.host, host) && (adv.port ?? lp.local.port) === port)
        return true;
      if (lp.local.port !== port || ipFamily(host) === 0) continue;
      if (!isWildcard(lp.local.address)) {
        if (sameAddress(lp.local.address, host)) return true;
      } else if (machineAddresses().some((a) => sameAddress(a, host))) return true;
    }
    return false;
  }

  /** Whether host names this proxy on any port: alias, advertised host, listening address. */
  isLocalHost(host: string): boolean {
    return this.#memo(`h|${host}`, () => this.#isLocalHost(host));
  }

  #isLocalHost(host: string): boolean {
    if (this.#aliases.some((a) => sameHost(a.host, host))) return true;
    if (this.#recordRouteHost !== undefined && sameHost(this.#recordRouteHost, host)) return true;
    const ip = ipFamily(host) !== 0;
    for (const lp of this.#transport.listeningPoints()) {
      if (lp.advertised !== undefined && sameHost(lp.advertised.host, host)) return true;
      if (!ip) continue;
      if (!isWildcard(lp.local.address)) {
        if (sameAddress(lp.local.address, host)) return true;
      } else if (machineAddresses().some((a) => sameAddress(a, host))) return true;
    }
    return false;
  }

  /** A SIP/SIPS URI naming this proxy (RFC 3261 §16.4). */
  isLocalUri(uri: Uri): boolean {
    if (!isSipUri(uri)) return false;
    const transport = uri.params.get('transport')?.toLowerCase();
    const secure = uri.scheme === 'sips' || transport === 'tls' || transport === 'wss';
    return this.isLocal(uri.host, uri.port ?? defaultPort(secure));
  }

  /** A Via whose sent-by is ours (RFC 3261 §16.3 item 4). */
  isLocalVia(via: Via): boolean {
    const secure = via.transport === 'TLS' || via.transport === 'WSS';
    return this.isLocal(via.host, via.port ?? defaultPort(secure));
  }

  /** The listening point a message to `protocol`/`address` leaves from (what the transport picks). */
  pointFor(protocol: TransportProtocol, address: string): ListeningPoint | undefined {
    return this.#memo(`p|${protocol}|${address}`, () => this.#pointFor(protocol, address));
  }

  #pointFor(protocol: TransportProtocol, address: string): ListeningPoint | undefined {
    const family = ipFamily(address) === 6 ? 6 : 4;
    const points = this.#transport.listeningPoints().filter((p) => p.protocol === protocol);
    return (
      points.find((p) => (ipFamily(p.local.address) === 6 ? 6 : 4) === family) ??
      points.find((p) => normaliseAddress(p.local.address) === '::') ??
      points[0]
    );
  }

  /** The listening point a flow arrived on. */
  inboundPoint(protocol: TransportProtocol, local: Endpoint): ListeningPoint | undefined {
    return this.#memo(`i|${protocol}|${local.address}|${local.port}`, () =>
      this.#inboundPoint(protocol, local),
    );
  }

  #inboundPoint(protocol: TransportProtocol, local: Endpoint): ListeningPoint | undefined {
    const points = this.#transport.listeningPoints().filter((p) => p.protocol === protocol);
    return (
      points.find(
        (p) =>
          p.local.port === local.port &&
          (isWildcard(p.local.address) || sameAddress(p.local.address, local.address)),
      ) ?? this.pointFor(protocol, local.address)
    );
  }

  /**
   * Our Record-Route URI for a listening point (RFC 3261 §16.6 item 4: loose-routing `lr`; the
   * transport parameter so the route set reaches the same listening point).
   */
  recordRouteUri(point: ListeningPoint, seen: Endpoint): string {
    const key = `r|${point.protocol}|${point.local.address}|${point.local.port}|${seen.address}`;
    return this.#memo(key, () => this.#recordRouteUri(point, seen));
  }

  #recordRouteUri(point: ListeningPoint, seen: Endpoint): string {
    const adv = point.advertised;
    let host: string;
    let port: number;
    if (adv !== undefined) {
      host = adv.host;
      port = adv.port ?? point.local.port;
    } else {
      host = isWildcard(point.local.address)
        ? (this.#recordRouteHost ?? seen.address)
        : point.local.address;
      port = point.local.port;
    }
    const hostPort =
      ipFamily(host) === 6 ? formatHostPort(normaliseAddress(host), port) : `${host}:${port}`;
    return `sip:${hostPort};transport=${point.protocol};lr`;
  }
}
