/**
 * How the in-memory location service keeps a binding: one object with every field in-object and
 * its place in the expiry heap, so that a registered contact costs as little memory as it can.
 * V8 gives an object literal exactly the slots it was written with, and puts fields added later
 * in a separate property array; instances of a constructor get slots for the fields it sets. The
 * heap position is a private field (invisible to JSON, spread and `Object.keys`).
 */
import type { Flow, Target } from '@switchboard/sip-stack';
import type { AuthIdentity, Binding, ReceivedAddress } from './binding.js';
import type { HeapItem } from './expiry-heap.js';

export class StoredBinding implements Binding, HeapItem {
  declare readonly aor: string;
  declare readonly key: string;
  declare readonly uri: string;
  declare readonly contact: string;
  declare readonly q?: number;
  declare readonly expiresAt: number;
  declare readonly callId: string;
  declare readonly cseq: number;
  declare readonly instanceId?: string;
  declare readonly regId?: number;
  declare readonly path?: readonly string[];
  declare readonly source: Flow;
  declare readonly received?: ReceivedAddress;
  declare readonly target?: Target;
  declare readonly outbound: boolean;
  declare readonly flowKey?: string;
  declare readonly userAgent?: string;
  declare readonly identity?: AuthIdentity;
  declare readonly registeredAt: number;
  declare readonly updatedAt: number;
  #heapIndex = -1;

  /** A copy of `b` (first registered at `registeredAt`), with the same optional fields. */
  constructor(b: Binding, registeredAt: number) {
    this.aor = b.aor;
    this.key = b.key;
    this.uri = b.uri;
    this.contact = b.contact;
    this.expiresAt = b.expiresAt;
    this.callId = b.callId;
    this.cseq = b.cseq;
    this.source = b.source;
    this.outbound = b.outbound;
    this.registeredAt = registeredAt;
    this.updatedAt = b.updatedAt;
    if (b.q !== undefined) this.q = b.q;
    if (b.instanceId !== undefined) this.instanceId = b.instanceId;
    if (b.regId !== undefined) this.regId = b.regId;
    if (b.path !== undefined) this.path = b.path;
    if (b.received !== undefined) this.received = b.received;
    if (b.target !== undefined) this.target = b.target;
    if (b.flowKey !== undefined) this.flowKey = b.flowKey;
    if (b.userAgent !== undefined) this.userAgent = b.userAgent;
    if (b.identity !== undefined) this.identity = b.identity;
  }

  /** Deadline in the expiry heap. */
  get at(): number {
    return this.expiresAt;
  }

  get heapIndex(): number {
    return this.#heapIndex;
  }

  set heapIndex(i: number) {
    this.#heapIndex = i;
  }
}
