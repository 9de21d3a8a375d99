import type {
  DnsAddressRecord,
  DnsNaptrRecord,
  DnsResolver,
  DnsSrvRecord,
} from '../../../src/dns/dns-resolver.js';

type Zone = {
  A?: Record<string, DnsAddressRecord[]>;
  AAAA?: Record<string, DnsAddressRecord[]>;
  SRV?: Record<string, DnsSrvRecord[]>;
  NAPTR?: Record<string, DnsNaptrRecord[]>;
  /** Names whose queries fail with this code (e.g. ETIMEOUT, ESERVFAIL). */
  failures?: Record<string, string>;
};

function dnsError(code: string, name: string): Error {
  return Object.assign(new Error(`${code} ${name}`), { code, hostname: name });
}

/** In-memory DNS with node:dns error codes; records every query as "TYPE name". */
export class FakeDnsResolver implements DnsResolver {
  readonly queries: string[] = [];
  constructor(public zone: Zone) {}

  resolve4(name: string): Promise<DnsAddressRecord[]> {
    return this.#answer('A', name, this.zone.A);
  }
  resolve6(name: string): Promise<DnsAddressRecord[]> {
    return this.#answer('AAAA', name, this.zone.AAAA);
  }
  resolveSrv(name: string): Promise<DnsSrvRecord[]> {
    return this.#answer('SRV', name, this.zone.SRV);
  }
  resolveNaptr(name: string): Promise<DnsNaptrRecord[]> {
    return this.#answer('NAPTR', name, this.zone.NAPTR);
  }

  async #answer<T>(
    type: string,
    name: string,
    table: Record<string, T[]> | undefined,
  ): Promise<T[]> {
    this.queries.push(`${type} ${name}`);
    await Promise.resolve();
    const failure = this.zone.failures?.[name];
    if (failure !== undefined) throw dnsError(failure, name);
    const records = table?.[name];
    if (records !== undefined) return records.map((r) => ({ ...r }));
    const known = [this.zone.A, this.zone.AAAA, this.zone.SRV, this.zone.NAPTR].some(
      (t) => t?.[name] !== undefined,
    );
    throw dnsError(known ? 'ENODATA' : 'ENOTFOUND', name);
  }
}

/** mulberry32: a small seeded PRNG returning [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
