export interface NonceCountWindowOptions {
  /** Most nonces remembered at once; memory stays bounded under any load (default 50000). */
  maxNonces?: number;
  /** How far below the highest nc seen an out-of-order nc is still accepted (1..64, default 32). */
  window?: number;
}

export type NonceCountVerdict = 'ok' | 'replay' | 'forgotten';

/** A nonce, or a shorter identity of it (see DigestNonce#id). */
export type NonceKey = string | number;

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

/** Slots allocated at first; the tables double up to `maxNonces`. */
const INITIAL_SLOTS = 1024;
const NONE = -1;

/**
 * Replay protection for nonce-counts (RFC 7616 §3.4 / §5.5): per nonce, the highest nc and a
 * sliding 64-bit bitmap of the ones below it, in bounded memory. The entries live in typed arrays
 * indexed by slot (no object, BigInt or heap number per nonce); a Map finds a nonce's slot, and
 * a doubly linked list through the slots keeps them in order of use, so the least recently used
 * is evicted in O(1) when the table is full. When an entry is evicted its issue time raises a
 * watermark: a nonce issued at or before the watermark that has no entry may have been forgotten,
 * so it is answered `forgotten` (the server then sends stale=true) rather than trusted.
 */
export class NonceCountWindow {
  readonly #slots = new Map<NonceKey, number>();
  readonly #maxNonces: number;
  readonly #window: number;
  #watermark = Number.NEGATIVE_INFINITY;
  #keys: (NonceKey | undefined)[] = [];
  #issuedAt = new Float64Array(0);
  /** Highest nc seen (nc is 8 hex digits: below 2**32). */
  #max = new Uint32Array(0);
  /** Bit i set = nc (max - i) was used; bits 0-31 and 32-63. */
  #seenLo = new Uint32Array(0);
  #seenHi = new Uint32Array(0);
  /** Use order: #oldest ... #newest through #newer / #older. */
  #newer = new Int32Array(0);
  #older = new Int32Array(0);
  #oldest = NONE;
  #newest = NONE;
  #used = 0;

  constructor(options: NonceCountWindowOptions = {}) {
    this.#maxNonces = Math.max(1, options.maxNonces ?? 50_000);
    this.#window = Math.min(64, Math.max(1, options.window ?? 32));
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Records `nc` for `nonce` when it has not been used; call only after the response verified. */
  accept(nonce: NonceKey, issuedAt: number, nc: number): NonceCountVerdict {
    const slot = this.#slots.get(nonce);
    if (slot === undefined) {
      if (issuedAt <= this.#watermark) return 'forgotten';
      this.#add(typeof nonce === 'string' ? ownCopy(nonce) : nonce, issuedAt, nc);
      return 'ok';
    }
    this.#touch(slot);
    const max = this.#max[slot] as number;
    if (nc > max) {
      this.#shift(slot, nc - max);
      this.#max[slot] = nc;
      return 'ok';
    }
    const back = max - nc;
    if (back >= this.#window) return 'replay';
    const seen = back < 32 ? this.#seenLo : this.#seenHi;
    const bit = back & 31;
    const word = seen[slot] as number;
    if (((word >>> bit) & 1) === 1) return 'replay';
    seen[slot] = word | (1 << bit);
    return 'ok';
  }

  #add(key: NonceKey, issuedAt: number, nc: number): void {
    let slot: number;
    if (this.#used < this.#maxNonces) {
      if (this.#used === this.#keys.length) this.#grow();
      slot = this.#used++;
    } else {
      slot = this.#evictOldest();
    }
    this.#keys[slot] = key;
    this.#slots.set(key, slot);
    this.#issuedAt[slot] = issuedAt;
    this.#max[slot] = nc;
    this.#seenLo[slot] = 1;
    this.#seenHi[slot] = 0;
    this.#link(slot);
  }

  /** Frees the least recently used slot (raising the watermark) and returns it. */
  #evictOldest(): number {
    const slot = this.#oldest;
    this.#unlink(slot);
    this.#slots.delete(this.#keys[slot] as NonceKey);
    this.#keys[slot] = undefined;
    const issuedAt = this.#issuedAt[slot] as number;
    if (issuedAt > this.#watermark) this.#watermark = issuedAt;
    return slot;
  }

  /** The bitmap moves up by `by` (a higher nc arrived); bit 0 is the new highest. */
  #shift(slot: number, by: number): void {
    const lo = this.#seenLo[slot] as number;
    const hi = this.#seenHi[slot] as number;
    if (by >= 64) {
      this.#seenHi[slot] = 0;
      this.#seenLo[slot] = 1;
    } else if (by >= 32) {
      this.#seenHi[slot] = by === 32 ? lo : lo << (by - 32);
      this.#seenLo[slot] = 1;
    } else {
      this.#seenHi[slot] = (hi << by) | (lo >>> (32 - by));
      this.#seenLo[slot] = (lo << by) | 1;
    }
  }

  #touch(slot: number): void {
    if (slot === this.#newest) return;
    this.#unlink(slot);
    this.#link(slot);
  }

  /** Appends `slot` as the most recently used. */
  #link(slot: number): void {
    this.#older[slot] = this.#newest;
    this.#newer[slot] = NONE;
    if (this.#newest !== NONE) this.#newer[this.#newest] = slot;
    else this.#oldest = slot;
    this.#newest = slot;
  }

  #unlink(slot: number): void {
    const older = this.#older[slot] as number;
    const newer = this.#newer[slot] as number;
    if (older !== NONE) this.#newer[older] = newer;
    else this.#oldest = newer;
    if (newer !== NONE) this.#older[newer] = older;
    else this.#newest = older;
  }

  #grow(): void {
    const n = Math.min(this.#maxNonces, Math.max(INITIAL_SLOTS, this.#keys.length * 2));
    this.#keys.length = n;
    this.#issuedAt = grown(this.#issuedAt, new Float64Array(n));
    this.#max = grown(this.#max, new Uint32Array(n));
    this.#seenLo = grown(this.#seenLo, new Uint32Array(n));
    this.#seenHi = grown(this.#seenHi, new Uint32Array(n));
    this.#newer = grown(this.#newer, new Int32Array(n));
    this.#older = grown(this.#older, new Int32Array(n));
  }
}

function grown<T extends Float64Array | Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
