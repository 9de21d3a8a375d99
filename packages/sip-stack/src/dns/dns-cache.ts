import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import {
  isNegativeDnsError,
  type DnsAddressRecord,
  type DnsNaptrRecord,
  type DnsResolver,
  type DnsSrvRecord,
} from './dns-resolver.js';

export interface DnsCacheOptions {
  clock?: Clock;
  /** TTL (s) for SRV and NAPTR answers, whose TTL node:dns does not report (default 300). */
  defaultTtl?: number;
  /** TTL (s) of negative answers, NXDOMAIN / NODATA (default 30; RFC 2308 SOA minimum is not exposed). */
  negativeTtl?: number;
  /** Upper bound for any TTL (s) (default 86400). */
  maxTtl?: number;
  /** Most entries kept; least recently used are dropped first (default 5000). */
  maxEntries?: number;
}

/** An answer from the cache; `ttl` is the remaining lifetime in seconds. Errors give no records. */
export interface DnsAnswer<T> {
  records: readonly T[];
  ttl: number;
  /** Set when the lookup failed for a reason other than a negative answer (not cached). */
  error?: string;
}

type RecordType = 'A' | 'AAAA' | 'SRV' | 'NAPTR';

interface CacheEntry {
  records: readonly unknown[];
  expiresAt: number;
}

export interface DnsCacheStats {
  hits: number;
  misses: number;
  negativeHits: number;
  errors: number;
  size: number;
}

/**
 * TTL-honouring DNS cache in front of a DnsResolver: positive and negative answers, bounded size
 * (LRU), expiry on the injected Clock, and one in-flight query per name and type.
 * Lookups never reject.
 */
export class DnsCache {
  #resolver: DnsResolver;
  #clock: Clock;
  #defaultTtl: number;
  #negativeTtl: number;
  #maxTtl: number;
  #maxEntries: number;
  #entries = new Map<string, CacheEntry>();
  #inflight = new Map<string, Promise<DnsAnswer<unknown>>>();
  #stats = { hits: 0, misses: 0, negativeHits: 0, errors: 0 };

  constructor(resolver: DnsResolver, options: DnsCacheOptions = {}) {
    this.#resolver = resolver;
    this.#clock = options.clock ?? systemClock;
    this.#defaultTtl = options.defaultTtl ?? 300;
    this.#negativeTtl = options.negativeTtl ?? 30;
    this.#maxTtl = options.maxTtl ?? 86400;
    this.#maxEntries = Math.max(1, options.maxEntries ?? 5000);
  }

  lookupA(name: string): Promise<DnsAnswer<DnsAddressRecord>> {
    return this.#lookup('A', name, () => this.#resolver.resolve4(name));
  }

  lookupAaaa(name: string): Promise<DnsAnswer<DnsAddressRecord>> {
    return this.#lookup('AAAA', name, () => this.#resolver.resolve6(name));
  }

  lookupSrv(name: string): Promise<DnsAnswer<DnsSrvRecord>> {
    return this.#lookup('SRV', name, () => this.#resolver.resolveSrv(name));
  }

  lookupNaptr(name: string): Promise<DnsAnswer<DnsNaptrRecord>> {
    return this.#lookup('NAPTR', name, () => this.#resolver.resolveNaptr(name));
  }

  get size(): number {
    return this.#entries.size;
  }

  stats(): DnsCacheStats {
    return { ...this.#stats, size: this.#entries.size };
  }

  clear(): void {
    this.#entries.clear();
  }

  #lookup<T>(type: RecordType, name: string, query: () => Promise<T[]>): Promise<DnsAnswer<T>> {
    const key = `${type} ${name.toLowerCase().replace(/\.$/, '')}`;
    const now = this.#clock.now();
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      if (hit.expiresAt > now) {
        this.#entries.delete(key); // LRU touch
        this.#entries.set(key, hit);
        if (hit.records.length === 0) this.#stats.negativeHits++;
        else this.#stats.hits++;
        return Promise.resolve({
          records: hit.records as readonly T[],
          ttl: Math.ceil((hit.expiresAt - now) / 1000),
        });
      }
      this.#entries.delete(key);
    }
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return pending as Promise<DnsAnswer<T>>;
    this.#stats.misses++;
    const p = this.#query(type, key, query).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #query<T>(type: RecordType, key: string, query: () => Promise<T[]>): Promise<DnsAnswer<T>> {
    try {
      const records = await query();
      const ttl = this.#ttlOf(type, records);
      if (records.length === 0) return this.#store(key, [], this.#negativeTtl);
      return this.#store(key, records, ttl);
    } catch (err) {
      if (isNegativeDnsError(err)) return this.#store(key, [], this.#negativeTtl);
      this.#stats.errors++;
      const code = (err as { code?: unknown } | null)?.code;
      return { records: [], ttl: 0, error: typeof code === 'string' ? code : 'EDNS' };
    }
  }

  #ttlOf(type: RecordType, records: readonly unknown[]): number {
    if (type === 'A' || type === 'AAAA') {
      let min = this.#maxTtl;
      for (const r of records as readonly DnsAddressRecord[])
        min = Math.min(min, Number.isFinite(r.ttl) ? r.ttl : 0);
      return Math.max(0, min);
    }
    return Math.min(this.#defaultTtl, this.#maxTtl);
  }

  #store<T>(key: string, records: readonly T[], ttl: number): DnsAnswer<T> {
    // RFC 1035 §3.2.1: TTL 0 means use for this transaction only, do not cache
    if (ttl > 0) {
      this.#entries.delete(key);
      this.#entries.set(key, { records, expiresAt: this.#clock.now() + ttl * 1000 });
      while (this.#entries.size > this.#maxEntries) {
        const oldest = this.#entries.keys().next();
        if (oldest.done === true) break;
        this.#entries.delete(oldest.value);
      }
    }
    return { records, ttl };
  }
}
