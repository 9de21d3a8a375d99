import { promises as dnsPromises } from 'node:dns';

/** An A or AAAA answer with its TTL in seconds. */
export interface DnsAddressRecord {
  address: string;
  ttl: number;
}

export interface DnsSrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface DnsNaptrRecord {
  flags: string;
  service: string;
  regexp: string;
  replacement: string;
  order: number;
  preference: number;
}

/**
 * The DNS queries RFC 3263 needs. Implementations reject with an error whose `code` is
 * `ENOTFOUND` (NXDOMAIN) or `ENODATA` (no records of that type) for negative answers, as node:dns
 * does; any other rejection is a failure (timeout, SERVFAIL...) and is not cached as negative.
 * Tests inject a fake; production uses `createNodeDnsResolver`.
 */
export interface DnsResolver {
  resolve4(name: string): Promise<DnsAddressRecord[]>;
  resolve6(name: string): Promise<DnsAddressRecord[]>;
  resolveSrv(name: string): Promise<DnsSrvRecord[]>;
  resolveNaptr(name: string): Promise<DnsNaptrRecord[]>;
}

export interface NodeDnsResolverOptions {
  /** DNS servers ("1.2.3.4", "[::1]:5353"); default: the system's. */
  servers?: readonly string[];
  /** Per-query timeout in ms (node:dns `timeout`). */
  timeoutMs?: number;
  /** Attempts per server (node:dns `tries`). */
  tries?: number;
}

/**
 * DnsResolver on node:dns promises. Only A/AAAA carry TTLs in node's API (`{ ttl: true }`);
 * SRV and NAPTR answers have none, so the cache applies its configurable default TTL to them.
 */
export function createNodeDnsResolver(options: NodeDnsResolverOptions = {}): DnsResolver {
  const resolver = new dnsPromises.Resolver({
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    ...(options.tries !== undefined ? { tries: options.tries } : {}),
  });
  if (options.servers !== undefined) resolver.setServers([...options.servers]);
  return {
    resolve4: (name) => resolver.resolve4(name, { ttl: true }),
    resolve6: (name) => resolver.resolve6(name, { ttl: true }),
    resolveSrv: (name) => resolver.resolveSrv(name),
    resolveNaptr: (name) => resolver.resolveNaptr(name),
  };
}

/** True for the node:dns codes that mean "the name or record type does not exist". */
export function isNegativeDnsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === dnsPromises.NOTFOUND || code === dnsPromises.NODATA;
}
