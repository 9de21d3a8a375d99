import type { Directory } from './directory.js';

export interface CachingDirectoryOptions {
  /** Entries kept before the cache is cleared (bounded memory). Default 200,000. */
  maxEntries?: number;
  /**
   * Asks whether another process changed the data (SQLite: PRAGMA data_version). Probed at most
   * every `probeIntervalMs`; writes through this process invalidate at once via `invalidate()`.
   */
  changedElsewhere?: () => boolean;
  probeIntervalMs?: number;
  /** Milliseconds for the probe interval (default Date.now; a clock set back probes at once). */
  now?: () => number;
}

type Method = keyof Directory;
type Reads = Map<string, Promise<unknown>>;

/**
 * A read-through cache in front of any Directory: configuration is read-mostly and the decisions
 * sit on the path of every call, so repeated lookups are answered from memory. The whole cache is
 * dropped on any write (generation), so a decision never mixes old and new configuration.
 * Cached values are shared: callers treat them as read-only.
 *
 * Reads are kept per method and argument in nested maps (two-argument reads: the argument with
 * few values outside), so a lookup hashes the arguments as they are instead of building, copying
 * and hashing one composite key per read.
 */
export class CachingDirectory implements Directory {
  #inner: Directory;
  #one = new Map<Method, Reads>();
  #two = new Map<Method, Map<string, Reads>>();
  #size = 0;
  #max: number;
  #changed: (() => boolean) | undefined;
  #probeMs: number;
  #now: () => number;
  #nextProbe = 0;

  constructor(inner: Directory, options: CachingDirectoryOptions = {}) {
    this.#inner = inner;
    this.#max = options.maxEntries ?? 200_000;
    this.#changed = options.changedElsewhere;
    this.#probeMs = options.probeIntervalMs ?? 250;
    this.#now = options.now ?? Date.now;
  }

  invalidate(): void {
    this.#one.clear();
    this.#two.clear();
    this.#size = 0;
  }

  /** Drop one cached read (the wallet after a local debit or credit). */
  forget(method: Method, ...args: string[]): void {
    const [a, b] = args;
    if (a === undefined) return;
    if (b === undefined) {
      if (this.#one.get(method)?.delete(a) === true) this.#size--;
      return;
    }
    const [outer, inner] = method === 'deviceCredentials' ? [b, a] : [a, b];
    if (this.#two.get(method)?.get(outer)?.delete(inner) === true) this.#size--;
  }

  #probe(): void {
    if (this.#changed === undefined) return;
    const now = this.#now();
    if (now >= this.#nextProbe || now < this.#nextProbe - this.#probeMs) {
      this.#nextProbe = now + this.#probeMs;
      if (this.#changed()) this.invalidate();
    }
  }

  /** The reads of a one-argument method, or of a two-argument one for its `outer` argument. */
  #reads(method: Method, outer: string | undefined): Reads {
    let reads: Reads | undefined;
    if (outer === undefined) {
      reads = this.#one.get(method);
      if (reads === undefined) this.#one.set(method, (reads = new Map<string, Promise<unknown>>()));
      return reads;
    }
    let byOuter = this.#two.get(method);
    if (byOuter === undefined) this.#two.set(method, (byOuter = new Map<string, Reads>()));
    reads = byOuter.get(outer);
    if (reads === undefined) byOuter.set(outer, (reads = new Map<string, Promise<unknown>>()));
    return reads;
  }

  #read<T>(
    method: Method,
    outer: string | undefined,
    key: string,
    load: () => Promise<T>,
  ): Promise<T> {
    this.#probe();
    let reads = this.#reads(method, outer);
    const hit = reads.get(key);
    if (hit !== undefined) return hit as Promise<T>;
    if (this.#size >= this.#max) {
      this.invalidate();
      reads = this.#reads(method, outer);
    }
    const p = load();
    reads.set(key, p);
    this.#size++;
    const kept = reads;
    p.catch(() => {
      // a failed read is not remembered (unless the cache moved on since)
      if (kept.get(key) === p && kept.delete(key)) this.#size--;
    });
    return p;
  }

  deviceCredentials(u: string, r: string) {
    return this.#read('deviceCredentials', r, u, () => this.#inner.deviceCredentials(u, r));
  }
  account(id: string) {
    return this.#read('account', undefined, id, () => this.#inner.account(id));
  }
  user(id: string) {
    return this.#read('user', undefined, id, () => this.#inner.user(id));
  }
  userByUsername(a: string, u: string) {
    return this.#read('userByUsername', a, u, () => this.#inner.userByUsername(a, u));
  }
  devicesOfUser(id: string) {
    return this.#read('devicesOfUser', undefined, id, () => this.#inner.devicesOfUser(id));
  }
  didByNumber(n: string) {
    return this.#read('didByNumber', undefined, n, () => this.#inner.didByNumber(n));
  }
  didById(id: string) {
    return this.#read('didById', undefined, id, () => this.#inner.didById(id));
  }
  extension(a: string, n: string) {
    return this.#read('extension', a, n, () => this.#inner.extension(a, n));
  }
  extensionById(id: string) {
    return this.#read('extensionById', undefined, id, () => this.#inner.extensionById(id));
  }
  ringGroup(id: string) {
    return this.#read('ringGroup', undefined, id, () => this.#inner.ringGroup(id));
  }
  schedule(id: string) {
    return this.#read('schedule', undefined, id, () => this.#inner.schedule(id));
  }
  outboundRoutes(a: string) {
    return this.#read('outboundRoutes', undefined, a, () => this.#inner.outboundRoutes(a));
  }
  trunk(id: string) {
    return this.#read('trunk', undefined, id, () => this.#inner.trunk(id));
  }
  target(t: 'call_flow' | 'queue' | 'voicemail', id: string) {
    return this.#read('target', t, id, () => this.#inner.target(t, id));
  }
  callLimits(a: string) {
    return this.#read('callLimits', undefined, a, () => this.#inner.callLimits(a));
  }
  /** Cached; the records store forgets it on every local wallet change. */
  wallet(a: string) {
    return this.#read('wallet', undefined, a, () => this.#inner.wallet(a));
  }
}
