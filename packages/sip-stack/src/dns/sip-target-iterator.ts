/** Transports RFC 3263 resolution can select (mirrors transport/'s TransportProtocol). */
export type SipTransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** One place to send a request, in the order to try them (RFC 3263 §4.3). */
export interface SipResolvedTarget {
  protocol: SipTransportProtocol;
  /** IP address, IPv6 without brackets. */
  address: string;
  port: number;
  family: 4 | 6;
  /** Seconds this target may be reused: the smallest TTL along NAPTR → SRV → A/AAAA; Infinity for IP literals. */
  ttl: number;
  /** The URI's host name, for TLS server identity (RFC 5922 §4); absent for IP literals. */
  serverName?: string;
}

/** A host still to be turned into addresses (an SRV target, or the URI host itself). */
export interface SipResolutionCandidate {
  protocol: SipTransportProtocol;
  host: string;
  port: number;
  ttl: number;
}

export type AddressLookup = (candidate: SipResolutionCandidate) => Promise<SipResolvedTarget[]>;

/**
 * Hands out targets one at a time, resolving the A/AAAA records of the next SRV target only when
 * the previous ones are used up: the transaction user calls `nextTarget()` again after a timeout,
 * a transport error or a 503 (RFC 3263 §4.3). Duplicates (same protocol, address, port) are skipped.
 */
export class SipTargetIterator implements AsyncIterable<SipResolvedTarget> {
  #plan: () => Promise<SipResolutionCandidate[]>;
  #lookup: AddressLookup;
  #maxTargets: number;
  #candidates: SipResolutionCandidate[] | undefined;
  #buffer: SipResolvedTarget[] = [];
  #seen = new Set<string>();
  #handedOut = 0;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    plan: () => Promise<SipResolutionCandidate[]>,
    lookup: AddressLookup,
    maxTargets: number,
  ) {
    this.#plan = plan;
    this.#lookup = lookup;
    this.#maxTargets = maxTargets;
  }

  /** The next target to try, or undefined when every target has been handed out. Never rejects. */
  nextTarget(): Promise<SipResolvedTarget | undefined> {
    const next = this.#chain.then(() => this.#next());
    this.#chain = next.catch(() => undefined);
    return next.catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SipResolvedTarget> {
    for (;;) {
      const t = await this.nextTarget();
      if (t === undefined) return;
      yield t;
    }
  }

  async #next(): Promise<SipResolvedTarget | undefined> {
    if (this.#handedOut >= this.#maxTargets) return undefined;
    this.#candidates ??= await this.#plan();
    for (;;) {
      const t = this.#buffer.shift();
      if (t !== undefined) {
        const key = `${t.protocol} ${t.address} ${t.port}`;
        if (this.#seen.has(key)) continue;
        this.#seen.add(key);
        this.#handedOut++;
        return t;
      }
      const candidate = this.#candidates.shift();
      if (candidate === undefined) return undefined;
      this.#buffer = await this.#lookup(candidate);
    }
  }
}
