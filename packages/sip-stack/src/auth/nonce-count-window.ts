export interface NonceCountWindowOptions {
  /** Most nonces remembered at once; memory stays bounded under any load (default 50000). */
  maxNonces?: number;
  /** How far below the highest nc seen an out-of-order nc is still accepted (1..64, default 32). */
  window?: number;
}

export type NonceCountVerdict = 'ok' | 'replay' | 'forgotten';

interface Entry {
  issuedAt: number;
  max: number;
  /** bit i set = nc (max - i) was used. */
  seen: bigint;
}

/**
 * Replay protection for nonce-counts (RFC 7616 §3.4 / §5.5): per nonce, the highest nc and a
 * sliding bitmap of the ones below it. Entries live in an LRU map of bounded size. When an entry is
 * evicted its issue time raises a watermark: a nonce issued at or before the watermark that has no
 * entry may have been forgotten, so it is answered `forgotten` (the server then sends stale=true)
 * rather than trusted.
 */
export class NonceCountWindow {
  #entries = new Map<string, Entry>();
  #maxNonces: number;
  #window: number;
  #watermark = Number.NEGATIVE_INFINITY;

  constructor(options: NonceCountWindowOptions = {}) {
    this.#maxNonces = Math.max(1, options.maxNonces ?? 50_000);
    this.#window = Math.min(64, Math.max(1, options.window ?? 32));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Records `nc` for `nonce` when it has not been used; call only after the response verified. */
  accept(nonce: string, issuedAt: number, nc: number): NonceCountVerdict {
    const entry = this.#entries.get(nonce);
    if (entry === undefined) {
      if (issuedAt <= this.#watermark) return 'forgotten';
      this.#insert(nonce, { issuedAt, max: nc, seen: 1n });
      return 'ok';
    }
    this.#entries.delete(nonce); // LRU touch
    this.#entries.set(nonce, entry);
    if (nc > entry.max) {
      const shift = nc - entry.max;
      entry.seen = shift >= 64 ? 1n : ((entry.seen << BigInt(shift)) | 1n) & 0xffffffffffffffffn;
      entry.max = nc;
      return 'ok';
    }
    const back = entry.max - nc;
    if (back >= this.#window) return 'replay';
    const bit = 1n << BigInt(back);
    if ((entry.seen & bit) !== 0n) return 'replay';
    entry.seen |= bit;
    return 'ok';
  }

  #insert(nonce: string, entry: Entry): void {
    this.#entries.set(nonce, entry);
    while (this.#entries.size > this.#maxNonces) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      const evicted = this.#entries.get(oldest.value);
      this.#entries.delete(oldest.value);
      if (evicted !== undefined && evicted.issuedAt > this.#watermark)
        this.#watermark = evicted.issuedAt;
    }
  }
}
