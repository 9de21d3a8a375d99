export interface NonceCountWindowOptions {
  /** Most nonces remembered at once; memory stays bounded under any load (default 50000). */
  maxNonces?: number;
  /** How far below the highest nc seen an out-of-order nc is still accepted (1..64, default 32). */
  window?: number;
}

export type NonceCountVerdict = 'ok' | 'replay' | 'forgotten';

interface Utf8Codec {
  utf8Write(s: string, offset: number): number;
  utf8Slice(start: number, end: number): string;
}

let scratch = Buffer.allocUnsafe(1024);

/**
 * A flat copy of the nonce to keep as a key: the nonce is a slice of a request, and a slice keeps
 * the whole message text alive in V8 for as long as the entry lives. Buffer#utf8Write and
 * #utf8Slice (undocumented, stable) are write()/toString() without the encoding dispatch.
 */
function ownCopy(s: string): string {
  if (s.length < 13) return s; // V8 copies short substrings anyway
  if (s.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(s.length * 3);
  const codec = scratch as unknown as Utf8Codec;
  return codec.utf8Slice(0, codec.utf8Write(s, 0));
}

interface Entry {
  issuedAt: number;
  max: number;
  /** bit i set = nc (max - i) was used. */
  seen: bigint;
  /** Use counter value at the last use (see `#evict`). */
  used: number;
}

/** Queue slots consumed before the queue arrays are compacted. */
const COMPACT_AFTER = 1024;

/**
 * Replay protection for nonce-counts (RFC 7616 §3.4 / §5.5): per nonce, the highest nc and a
 * sliding bitmap of the ones below it, in bounded memory. When the map is full the least recently
 * used entry goes: entries wait in a queue in order of use, and one used again since it was queued
 * is queued again instead of evicted (no walk over a Map's deleted slots, which costs tens of
 * microseconds per eviction on a large map). When an entry is evicted its issue time raises a
 * watermark: a nonce issued at or before the watermark that has no entry may have been forgotten,
 * so it is answered `forgotten` (the server then sends stale=true) rather than trusted.
 */
export class NonceCountWindow {
  #entries = new Map<string, Entry>();
  #maxNonces: number;
  #window: number;
  #watermark = Number.NEGATIVE_INFINITY;
  #uses = 0;
  /** Eviction queue: nonce and its use counter when queued, from `#head` on. */
  #queue: string[] = [];
  #queued: number[] = [];
  #head = 0;

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
      while (this.#entries.size >= this.#maxNonces && this.#evict());
      const key = ownCopy(nonce);
      const used = ++this.#uses;
      this.#entries.set(key, { issuedAt, max: nc, seen: 1n, used });
      this.#queue.push(key);
      this.#queued.push(used);
      return 'ok';
    }
    entry.used = ++this.#uses; // LRU touch, settled when the entry reaches the queue's head
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

  /** Evicts the least recently used entry (queued again when it was used after being queued). */
  #evict(): boolean {
    for (;;) {
      if (this.#head >= this.#queue.length) return false; // every entry is queued: not reached
      const key = this.#queue[this.#head] as string;
      const queuedAt = this.#queued[this.#head] as number;
      this.#head++;
      if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#queued = this.#queued.slice(this.#head);
        this.#head = 0;
      }
      const entry = this.#entries.get(key);
      if (entry === undefined) continue;
      if (entry.used !== queuedAt) {
        this.#queue.push(key);
        this.#queued.push(entry.used);
        continue;
      }
      this.#entries.delete(key);
      if (entry.issuedAt > this.#watermark) this.#watermark = entry.issuedAt;
      return true;
    }
  }
}
