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
  now?: () => number;
}

type Method = keyof Directory;

/**
 * A read-through cache in front of any Directory: configuration is read-mostly and the decisions
 * sit on the path of every call, so repeated lookups are answered from memory. The whole cache is
 * dropped on any write (generation), so a decision never mixes old and new configuration.
 * Cached values are shared: callers treat them as read-only.
 */
export class CachingDirectory implements Directory {
  #inner: Directory;
  #cache = new Map<string, Promise<unknown>>();
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
    this.#now = options.now ?? (() => performance.now());
  }

  invalidate(): void {
    this.#cache.clear();
  }

  /** Drop one cached read (the wallet after a local debit or credit). */
  forget(method: Method, ...args: string[]): void {
    this.#cache.delete(`${method}\u0000${args.join('\u0000')}`);
  }

  #read<T>(method: Method, args: readonly string[], load: () => Promise<T>): Promise<T> {
    if (this.#changed !== undefined) {
      const now = this.#now();
      if (now >= this.#nextProbe) {
        this.#nextProbe = now + this.#probeMs;
        if (this.#changed()) this.#cache.clear();
      }
    }
    const key = `${method}\u0000${args.join('\u0000')}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit as Promise<T>;
    if (this.#cache.size >= this.#max) this.#cache.clear();
    const p = load();
    this.#cache.set(key, p);
    p.catch(() => this.#cache.delete(key));
    return p;
  }

  deviceCredentials(u: string, r: string) {
    return this.#read('deviceCredentials', [u, r], () => this.#inner.deviceCredentials(u, r));
  }
  account(id: string) {
    return this.#read('account', [id], () => this.#inner.account(id));
  }
  user(id: string) {
    return this.#read('user', [id], () => this.#inner.user(id));
  }
  userByUsername(a: string, u: string) {
    return this.#read('userByUsername', [a, u], () => this.#inner.userByUsername(a, u));
  }
  devicesOfUser(id: string) {
    return this.#read('devicesOfUser', [id], () => this.#inner.devicesOfUser(id));
  }
  didByNumber(n: string) {
    return this.#read('didByNumber', [n], () => this.#inner.didByNumber(n));
  }
  didById(id: string) {
    return this.#read('didById', [id], () => this.#inner.didById(id));
  }
  extension(a: string, n: string) {
    return this.#read('extension', [a, n], () => this.#inner.extension(a, n));
  }
  extensionById(id: string) {
    return this.#read('extensionById', [id], () => this.#inner.extensionById(id));
  }
  ringGroup(id: string) {
    return this.#read('ringGroup', [id], () => this.#inner.ringGroup(id));
  }
  schedule(id: string) {
    return this.#read('schedule', [id], () => this.#inner.schedule(id));
  }
  outboundRoutes(a: string) {
    return this.#read('outboundRoutes', [a], () => this.#inner.outboundRoutes(a));
  }
  trunk(id: string) {
    return this.#read('trunk', [id], () => this.#inner.trunk(id));
  }
  target(t: 'call_flow' | 'queue' | 'voicemail', id: string) {
    return this.#read('target', [t, id], () => this.#inner.target(t, id));
  }
  callLimits(a: string) {
    return this.#read('callLimits', [a], () => this.#inner.callLimits(a));
  }
  /** Cached; the records store forgets it on every local wallet change. */
  wallet(a: string) {
    return this.#read('wallet', [a], () => this.#inner.wallet(a));
  }
}
