import type { Target } from '../transport/transport.js';

/** Bytes per chunk; an entry larger than this gets a chunk of its own size. */
const CHUNK_BYTES = 1 << 20;
/** Logical positions: chunk number × SPAN + offset (an entry never exceeds SPAN). */
const SPAN = 1 << 24;
/**
 * An entry: u32 length, f64 deadline, u32 key hash, u16 key length, u32 body length, the key
 * (latin1), the target (see `encodeTarget`), the body.
 */
const HEADER = 4 + 8 + 4 + 2 + 4;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** `flowId` length meaning "no flow id". */
const NO_FLOW = 0xffff;
/** Free chunks kept for reuse instead of allocating again. */
const SPARE_CHUNKS = 4;
const MIN_INDEX = 1024;

interface Chunk {
  readonly bytes: Buffer;
  /** Bytes written so far. */
  used: number;
}

/** A stored response found by its key: a copy of its bytes and where they went. */
export interface StoredResponse {
  readonly bytes: Buffer;
  readonly target: Target;
}

/**
 * The final responses of completed non-INVITE server transactions over unreliable transports
 * (RFC 3261 §17.2.2: Completed waits 64*T1 only to answer retransmissions), kept outside the
 * JavaScript heap. Each entry (transaction key, target, response bytes, deadline) is appended to
 * a chunk of an external Buffer and indexed by a hash table of typed arrays; entries leave in the
 * order they came, at their deadline. A completed transaction then costs the garbage collector
 * nothing: at thousands of registrations a second, 32 s of them in the heap used to be copied by
 * every scavenge that met them and then marked by every full collection.
 *
 * Keys, addresses and flow ids are stored as latin1; `add` refuses text it cannot store that way
 * (and anything over 16 MiB), and the caller keeps such a transaction in the heap as before.
 */
export class CompletedResponses {
  /** Chunks from the oldest entry's to the newest's; `#firstChunk` numbers the first. */
  #chunks: Chunk[] = [];
  #firstChunk = 0;
  #spare: Buffer[] = [];
  /** Logical position of the oldest entry not yet swept. */
  #head = 0;
  /** Logical position + 1 of each indexed entry (0: empty); linear probing. */
  #slots = new Float64Array(MIN_INDEX);
  #hashes = new Uint32Array(MIN_INDEX);
  #count = 0;
  #lastTarget: Target | undefined;
  #lastWhere: Buffer | undefined;

  /** Entries indexed (some may be past their deadline until the next sweep). */
  get size(): number {
    return this.#count;
  }

  /** Bytes of the chunks held (external memory). */
  get bytesHeld(): number {
    let n = 0;
    for (const c of this.#chunks) n += c.bytes.length;
    return n;
  }

  /**
   * Stores `bytes` under `key` until `deadline` (clock milliseconds), replacing an entry with the
   * same key. Sweeps entries whose deadline is at or before `now`. False when the entry cannot
   * be stored (text outside latin1, too large): nothing was stored.
   */
  add(key: string, bytes: Uint8Array, target: Target, deadline: number, now: number): boolean {
    this.sweep(now);
    const where = this.#encodeTarget(target);
    if (where === undefined) return false;
    const keyLen = key.length;
    const size = HEADER + keyLen + where.length + bytes.length;
    if (size >= SPAN || keyLen > 0xffff) return false;
    const pos = this.#reserve(size);
    const chunk = this.#chunkAt(pos);
    const b = chunk.bytes;
    const start = pos % SPAN;
    // the key's bytes and its hash in one pass; a chunk's `used` moves only once all is written
    let h = FNV_OFFSET;
    const k = start + HEADER;
    for (let i = 0; i < keyLen; i++) {
      const c = key.charCodeAt(i);
      if (c > 0xff) return false;
      b[k + i] = c;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    const hash = h >>> 0;
    this.#remove(key, hash, now);
    let o = b.writeUInt32LE(size, start);
    o = b.writeDoubleLE(deadline, o);
    o = b.writeUInt32LE(hash, o);
    o = b.writeUInt16LE(keyLen, o);
    o = b.writeUInt32LE(bytes.length, o);
    o += keyLen;
    b.set(where, o);
    b.set(bytes, o + where.length);
    chunk.used = start + size;
    this.#insert(hash, pos);
    return true;
  }

  /**
   * The target as bytes: u16 protocol, address and flow id lengths (flow id NO_FLOW when
   * absent), u32 port, then the three strings (latin1). The last one is remembered: the responses
   * of one peer go to one target.
   */
  #encodeTarget(target: Target): Buffer | undefined {
    const last = this.#lastTarget;
    if (
      last !== undefined &&
      (last === target ||
        (last.port === target.port &&
          last.address === target.address &&
          last.flowId === target.flowId &&
          last.protocol === target.protocol))
    )
      return this.#lastWhere;
    const { protocol, address, flowId } = target;
    if (!latin1(protocol) || !latin1(address) || (flowId !== undefined && !latin1(flowId)))
      return undefined;
    if (address.length > 0xffff || protocol.length > 0xffff || (flowId?.length ?? 0) >= NO_FLOW)
      return undefined;
    const where = Buffer.alloc(10 + protocol.length + address.length + (flowId?.length ?? 0));
    let o = where.writeUInt16LE(protocol.length, 0);
    o = where.writeUInt16LE(address.length, o);
    o = where.writeUInt16LE(flowId?.length ?? NO_FLOW, o);
    o = where.writeUInt32LE(target.port, o);
    o += where.write(protocol, o, 'latin1');
    o += where.write(address, o, 'latin1');
    if (flowId !== undefined) where.write(flowId, o, 'latin1');
    this.#lastTarget = target;
    this.#lastWhere = where;
    return where;
  }

  /** The response stored under `key` whose deadline is after `now` (its bytes copied). */
  find(key: string, now: number): StoredResponse | undefined {
    const pos = this.#lookup(key, hashOf(key), now);
    return pos < 0 ? undefined : this.#read(pos);
  }

  /** Whether a response is stored under `key` with its deadline after `now` (nothing copied). */
  has(key: string, now: number): boolean {
    return this.#lookup(key, hashOf(key), now) >= 0;
  }

  /** Forgets the entry under `key`, if any. */
  delete(key: string): void {
    this.#remove(key, hashOf(key), -Infinity);
  }

  /** Drops every entry whose deadline is at or before `now`, and the chunks they emptied. */
  sweep(now: number): void {
    while (this.#chunks.length > 0) {
      const chunk = this.#chunkAt(this.#head);
      const o = this.#head % SPAN;
      if (o >= chunk.used) {
        // the oldest chunk is used up: if it is not the one being written, let it go
        if (this.#chunks.length === 1) return;
        this.#release();
        continue;
      }
      const b = chunk.bytes;
      if (b.readDoubleLE(o + 4) > now) return;
      this.#unindex(b.readUInt32LE(o + 12), this.#head);
      this.#head += b.readUInt32LE(o);
    }
  }

  /** Forgets everything (shutdown). */
  clear(): void {
    this.#chunks = [];
    this.#spare = [];
    this.#firstChunk = 0;
    this.#head = 0;
    this.#slots = new Float64Array(MIN_INDEX);
    this.#hashes = new Uint32Array(MIN_INDEX);
    this.#count = 0;
  }

  #chunkAt(pos: number): Chunk {
    return this.#chunks[Math.floor(pos / SPAN) - this.#firstChunk] as Chunk;
  }

  /** The logical position of `size` free bytes at the end of the newest chunk (or a new one). */
  #reserve(size: number): number {
    const last = this.#chunks[this.#chunks.length - 1];
    const lastNo = this.#firstChunk + this.#chunks.length - 1;
    if (last !== undefined && last.bytes.length - last.used >= size)
      return lastNo * SPAN + last.used;
    const spare = size <= CHUNK_BYTES ? this.#spare.pop() : undefined;
    const bytes = spare ?? Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, size));
    this.#chunks.push({ bytes, used: 0 });
    const no = lastNo + 1;
    if (this.#chunks.length === 1) {
      this.#firstChunk = no;
      this.#head = no * SPAN;
    }
    return no * SPAN;
  }

  #release(): void {
    const gone = this.#chunks.shift();
    this.#firstChunk++;
    this.#head = this.#firstChunk * SPAN;
    if (
      gone !== undefined &&
      gone.bytes.length === CHUNK_BYTES &&
      this.#spare.length < SPARE_CHUNKS
    )
      this.#spare.push(gone.bytes);
  }

  #read(pos: number): StoredResponse {
    const b = this.#chunkAt(pos).bytes;
    const start = pos % SPAN;
    const keyLen = b.readUInt16LE(start + 16);
    const bodyLen = b.readUInt32LE(start + 18);
    let o = start + HEADER + keyLen;
    const protoLen = b.readUInt16LE(o);
    const addrLen = b.readUInt16LE(o + 2);
    const flowLen = b.readUInt16LE(o + 4);
    const port = b.readUInt32LE(o + 6);
    o += 10;
    const protocol = b.toString('latin1', o, (o += protoLen)) as Target['protocol'];
    const address = b.toString('latin1', o, (o += addrLen));
    const target: Target = { protocol, address, port };
    if (flowLen !== NO_FLOW) target.flowId = b.toString('latin1', o, (o += flowLen));
    return { bytes: Buffer.from(b.subarray(o, o + bodyLen)), target };
  }

  /** Index of the live entry for `key` (deadline after `now`), or -1. */
  #lookup(key: string, hash: number, now: number): number {
    const mask = this.#slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const v = this.#slots[i] as number;
      if (v === 0) return -1;
      if (this.#hashes[i] === hash && this.#keyAt(v - 1, key, now)) return v - 1;
    }
  }

  /** Whether the entry at `pos` has key `key` and a deadline after `now`. */
  #keyAt(pos: number, key: string, now: number): boolean {
    const b = this.#chunkAt(pos).bytes;
    const o = pos % SPAN;
    if (b.readDoubleLE(o + 4) <= now) return false;
    const n = b.readUInt16LE(o + 16);
    if (n !== key.length) return false;
    const k = o + HEADER;
    for (let i = 0; i < n; i++) if (b[k + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  #remove(key: string, hash: number, now: number): void {
    const mask = this.#slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const v = this.#slots[i] as number;
      if (v === 0) return;
      if (this.#hashes[i] === hash && this.#keyAt(v - 1, key, now)) {
        this.#clearSlot(i);
        return;
      }
    }
  }

  #insert(hash: number, pos: number): void {
    if ((this.#count + 1) * 2 > this.#slots.length) this.#grow();
    const mask = this.#slots.length - 1;
    let i = hash & mask;
    while (this.#slots[i] !== 0) i = (i + 1) & mask;
    this.#slots[i] = pos + 1;
    this.#hashes[i] = hash;
    this.#count++;
  }

  /** Removes the index entry pointing at `pos` (a swept entry; a replaced one is gone already). */
  #unindex(hash: number, pos: number): void {
    const mask = this.#slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const v = this.#slots[i] as number;
      if (v === 0) return;
      if (v === pos + 1) {
        this.#clearSlot(i);
        return;
      }
    }
  }

  /** Linear-probing deletion by backward shift: no tombstones, probes stay short. */
  #clearSlot(at: number): void {
    const slots = this.#slots;
    const hashes = this.#hashes;
    const mask = slots.length - 1;
    let i = at;
    let j = at;
    this.#count--;
    for (;;) {
      slots[i] = 0;
      for (;;) {
        j = (j + 1) & mask;
        if (slots[j] === 0) return;
        const home = (hashes[j] as number) & mask;
        // the entry at j may move to i unless its home lies cyclically in (i, j]
        const stays = i <= j ? i < home && home <= j : i < home || home <= j;
        if (!stays) break;
      }
      slots[i] = slots[j] as number;
      hashes[i] = hashes[j] as number;
      i = j;
    }
  }

  #grow(): void {
    const oldSlots = this.#slots;
    const oldHashes = this.#hashes;
    this.#slots = new Float64Array(oldSlots.length * 2);
    this.#hashes = new Uint32Array(oldSlots.length * 2);
    this.#count = 0;
    for (let i = 0; i < oldSlots.length; i++) {
      const v = oldSlots[i] as number;
      if (v !== 0) this.#insert(oldHashes[i] as number, v - 1);
    }
  }
}

/** 32-bit FNV-1a over the string's code units. */
function hashOf(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/** Any UTF-16 code unit above U+00FF. */
const WIDE = /[\u0100-\uffff]/;

function latin1(s: string): boolean {
  return !WIDE.test(s);
}
