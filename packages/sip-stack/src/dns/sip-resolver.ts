import { isIP } from 'node:net';
import type { Clock } from '../util/clock.js';
import { DnsCache, type DnsAnswer } from './dns-cache.js';
import { createNodeDnsResolver, type DnsAddressRecord, type DnsResolver } from './dns-resolver.js';
import { orderNaptrRecords, orderSrvRecords } from './order-srv-records.js';
import {
  SipTargetIterator,
  type SipResolutionCandidate,
  type SipResolvedTarget,
  type SipTransportProtocol,
} from './sip-target-iterator.js';

/** The parts of a SIP URI resolution needs (a message-layer SipUri fits). */
export interface SipResolvableUri {
  scheme: string;
  /** Host name or IP; IPv6 may carry brackets. */
  host: string;
  port?: number | undefined;
  params?: ReadonlyMap<string, string | null>;
}

export interface SipResolverOptions {
  /** Where queries go (default: node:dns). Ignored when `cache` is given. */
  resolver?: DnsResolver;
  /** A shared cache; default: a new DnsCache over `resolver` with the options below. */
  cache?: DnsCache;
  clock?: Clock;
  /** Cache TTL (s) for SRV/NAPTR, whose TTL node:dns does not report (default 300). */
  defaultTtl?: number;
  negativeTtl?: number;
  maxCacheEntries?: number;
  /** Transports we can use, in the order to try them when DNS leaves the choice to us. */
  protocols?: readonly SipTransportProtocol[];
  /** Address families in preference order (default [4, 6]). */
  families?: readonly (4 | 6)[];
  /** [0, 1) random source for RFC 2782 weighted selection (inject a seeded one in tests). */
  random?: () => number;
  /** Most targets one resolution hands out, against hostile DNS data (default 32). */
  maxTargets?: number;
}

// RFC 3263 §4.1 NAPTR services; D2W (WebSocket) services as registered by RFC 7118
const NAPTR_SERVICES: Readonly<Record<string, SipTransportProtocol>> = {
  'sip+d2u': 'udp',
  'sip+d2t': 'tcp',
  'sips+d2t': 'tls',
  'sip+d2w': 'ws',
  'sips+d2w': 'wss',
};

// RFC 3263 §4.1: SRV service/proto labels per transport (no SRV fallback for WebSocket)
const SRV_PREFIX: Partial<Record<SipTransportProtocol, string>> = {
  udp: '_sip._udp',
  tcp: '_sip._tcp',
  tls: '_sips._tcp',
};

const SECURE: Readonly<Record<SipTransportProtocol, boolean>> = {
  udp: false,
  tcp: false,
  tls: true,
  ws: false,
  wss: true,
};

/** RFC 3261 §19.1.2: 5060 for sip, 5061 for sips (TLS). */
export function defaultPortFor(protocol: SipTransportProtocol): number {
  return SECURE[protocol] ? 5061 : 5060;
}

type Explicit = { protocol: SipTransportProtocol } | { protocol: undefined } | { invalid: true };

/** RFC 3263 §4.1: the transport named by the URI (transport param, sips scheme). */
function explicitProtocol(secure: boolean, transport: string | null | undefined): Explicit {
  if (transport === undefined || transport === null) return { protocol: undefined };
  switch (transport.toLowerCase()) {
    case 'udp':
      return secure ? { invalid: true } : { protocol: 'udp' }; // RFC 3261 §26.2.2: no SIPS over UDP
    case 'tcp':
      return { protocol: secure ? 'tls' : 'tcp' }; // RFC 3263 §4.1: sips + tcp = TLS
    case 'tls':
      return { protocol: 'tls' };
    case 'ws':
      return { protocol: secure ? 'wss' : 'ws' };
    case 'wss':
      return { protocol: 'wss' };
    default:
      return { invalid: true }; // sctp and unknown transports are not supported here
  }
}

/**
 * RFC 3263 client-side resolution: numeric IP → direct; port given → A/AAAA; otherwise
 * NAPTR → SRV → A/AAAA, SRV per transport when there is no NAPTR, and A/AAAA on the default port
 * when there is nothing else. Targets come lazily through `targets(uri).nextTarget()`.
 */
export class SipResolver {
  #cache: DnsCache;
  #protocols: readonly SipTransportProtocol[];
  #families: readonly (4 | 6)[];
  #random: () => number;
  #maxTargets: number;

  constructor(options: SipResolverOptions = {}) {
    this.#cache =
      options.cache ??
      new DnsCache(options.resolver ?? createNodeDnsResolver(), {
        ...(options.clock !== undefined ? { clock: options.clock } : {}),
        ...(options.defaultTtl !== undefined ? { defaultTtl: options.defaultTtl } : {}),
        ...(options.negativeTtl !== undefined ? { negativeTtl: options.negativeTtl } : {}),
        ...(options.maxCacheEntries !== undefined ? { maxEntries: options.maxCacheEntries } : {}),
      });
    this.#protocols = options.protocols ?? ['udp', 'tcp', 'tls'];
    this.#families = options.families ?? [4, 6];
    this.#random = options.random ?? Math.random;
    this.#maxTargets = options.maxTargets ?? 32;
  }

  get cache(): DnsCache {
    return this.#cache;
  }

  /** A lazy, failover-ordered sequence of targets for the URI (RFC 3263 §4.3). */
  targets(uri: SipResolvableUri): SipTargetIterator {
    const host =
      uri.host.startsWith('[') && uri.host.endsWith(']') ? uri.host.slice(1, -1) : uri.host;
    const serverName = isIP(host) === 0 ? host.replace(/\.$/, '') : undefined;
    return new SipTargetIterator(
      () => this.#plan(uri, host),
      (c) => this.#addresses(c, serverName),
      this.#maxTargets,
    );
  }

  /** Every target, in the order to try them. */
  async resolve(uri: SipResolvableUri): Promise<SipResolvedTarget[]> {
    const out: SipResolvedTarget[] = [];
    for await (const t of this.targets(uri)) out.push(t);
    return out;
  }

  async #plan(uri: SipResolvableUri, host: string): Promise<SipResolutionCandidate[]> {
    const scheme = uri.scheme.toLowerCase();
    if ((scheme !== 'sip' && scheme !== 'sips') || host === '') return [];
    const secure = scheme === 'sips';
    const explicit = explicitProtocol(secure, uri.params?.get('transport'));
    if ('invalid' in explicit) return [];
    if (explicit.protocol !== undefined && !this.#protocols.includes(explicit.protocol)) return [];
    const fallback = explicit.protocol ?? this.#defaultProtocol(secure);
    if (fallback === undefined) return [];
    // RFC 3263 §4.1/§4.2: numeric IP or explicit port → no NAPTR/SRV, A/AAAA on that port
    if (isIP(host) !== 0 || uri.port !== undefined) {
      return [
        {
          protocol: fallback,
          host,
          port: uri.port ?? defaultPortFor(fallback),
          ttl: Number.POSITIVE_INFINITY,
        },
      ];
    }
    if (explicit.protocol !== undefined) {
      // RFC 3263 §4.2: transport known → SRV for it; none found → A/AAAA on the default port
      const srv = await this.#srvCandidates(explicit.protocol, host, Number.POSITIVE_INFINITY);
      return (
        srv ?? [
          {
            protocol: fallback,
            host,
            port: defaultPortFor(fallback),
            ttl: Number.POSITIVE_INFINITY,
          },
        ]
      );
    }
    const fromNaptr = await this.#naptrCandidates(host, secure);
    if (fromNaptr.length > 0) return fromNaptr;
    // RFC 3263 §4.1: no NAPTR → SRV query for each supported transport
    const fromSrv: SipResolutionCandidate[] = [];
    let decidedlyUnavailable = false;
    for (const protocol of this.#protocols) {
      if (secure && !SECURE[protocol]) continue;
      if (SRV_PREFIX[protocol] === undefined) continue;
      const found = await this.#srvCandidates(protocol, host, Number.POSITIVE_INFINITY);
      if (found !== undefined) {
        fromSrv.push(...found);
        if (found.length === 0) decidedlyUnavailable = true;
      }
    }
    if (fromSrv.length > 0 || decidedlyUnavailable) return fromSrv;
    // RFC 3263 §4.1/§4.2: nothing → UDP for sip, TLS for sips, A/AAAA on 5060/5061
    return [
      { protocol: fallback, host, port: defaultPortFor(fallback), ttl: Number.POSITIVE_INFINITY },
    ];
  }

  #defaultProtocol(secure: boolean): SipTransportProtocol | undefined {
    // RFC 3263 §4.1: UDP for sip, TCP (TLS) for sips; else the first supported of the kind
    const preferred: SipTransportProtocol = secure ? 'tls' : 'udp';
    if (this.#protocols.includes(preferred)) return preferred;
    return this.#protocols.find((p) => SECURE[p] === secure && SRV_PREFIX[p] !== undefined);
  }

  async #naptrCandidates(host: string, secure: boolean): Promise<SipResolutionCandidate[]> {
    const naptr = await this.#cache.lookupNaptr(host);
    const out: SipResolutionCandidate[] = [];
    for (const r of orderNaptrRecords(naptr.records)) {
      const protocol = NAPTR_SERVICES[r.service.toLowerCase()];
      // RFC 3263 §4.1: "S" flag, empty regexp, a service we support; SIPS URIs keep only SIPS services
      if (protocol === undefined || !this.#protocols.includes(protocol)) continue;
      if (r.flags.toLowerCase() !== 's' || r.regexp !== '' || r.replacement === '') continue;
      if (secure && !SECURE[protocol]) continue;
      const found = await this.#srvLookup(protocol, r.replacement, naptr.ttl);
      // RFC 3263 §4.1: an SRV lookup that fails moves on to the next NAPTR record
      if (found !== undefined) out.push(...found);
    }
    return out;
  }

  /** SRV candidates for `_service._proto.host`; undefined when there are no SRV records. */
  #srvCandidates(
    protocol: SipTransportProtocol,
    host: string,
    ttl: number,
  ): Promise<SipResolutionCandidate[] | undefined> {
    const prefix = SRV_PREFIX[protocol];
    if (prefix === undefined) return Promise.resolve(undefined);
    return this.#srvLookup(protocol, `${prefix}.${host}`, ttl);
  }

  async #srvLookup(
    protocol: SipTransportProtocol,
    name: string,
    ttl: number,
  ): Promise<SipResolutionCandidate[] | undefined> {
    const srv = await this.#cache.lookupSrv(name);
    if (srv.records.length === 0) return undefined;
    const t = Math.min(ttl, srv.ttl);
    // RFC 2782: a single record with target "." means the service is decidedly not available
    if (srv.records.length === 1 && (srv.records[0]?.name === '.' || srv.records[0]?.name === ''))
      return [];
    return orderSrvRecords(srv.records, this.#random)
      .filter((r) => r.name !== '.' && r.name !== '')
      .map((r) => ({ protocol, host: r.name, port: r.port, ttl: t }));
  }

  async #addresses(
    c: SipResolutionCandidate,
    serverName: string | undefined,
  ): Promise<SipResolvedTarget[]> {
    const base = (address: string, family: 4 | 6, ttl: number): SipResolvedTarget => {
      const t: SipResolvedTarget = { protocol: c.protocol, address, port: c.port, family, ttl };
      if (serverName !== undefined) t.serverName = serverName;
      return t;
    };
    const literal = isIP(c.host);
    if (literal !== 0) return [base(c.host, literal as 4 | 6, c.ttl)];
    const out: SipResolvedTarget[] = [];
    for (const family of this.#families) {
      const answer: DnsAnswer<DnsAddressRecord> =
        family === 4 ? await this.#cache.lookupA(c.host) : await this.#cache.lookupAaaa(c.host);
      for (const r of answer.records)
        out.push(base(r.address, family, Math.min(c.ttl, answer.ttl)));
    }
    return out;
  }
}
