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

  /**
   * A copy of `b` (first registered at `registeredAt`), with the same optional fields. With
   * `previous` (the binding `b` refreshes), every value equal to the previous binding's is taken
   * from it: a refresh then keeps one new object and what really changed, instead of fresh copies
   * of the same strings and objects (less survives the young generation, less is promoted only
   * to be dropped at the next refresh).
   */
  constructor(b: Binding, registeredAt: number, previous?: StoredBinding) {
    const p = previous;
    this.aor = same(b.aor, p?.aor);
    this.key = same(b.key, p?.key);
    this.uri = same(b.uri, p?.uri);
    this.contact = same(b.contact, p?.contact);
    this.expiresAt = b.expiresAt;
    this.callId = same(b.callId, p?.callId);
    this.cseq = b.cseq;
    this.source = p !== undefined && sameFlow(b.source, p.source) ? p.source : b.source;
    this.outbound = b.outbound;
    this.registeredAt = registeredAt;
    this.updatedAt = b.updatedAt;
    if (b.q !== undefined) this.q = b.q;
    if (b.instanceId !== undefined) this.instanceId = same(b.instanceId, p?.instanceId);
    if (b.regId !== undefined) this.regId = b.regId;
    if (b.path !== undefined) this.path = b.path;
    if (b.received !== undefined)
      this.received = sameTarget(b.received, p?.received)
        ? (p?.received ?? b.received)
        : b.received;
    if (b.target !== undefined)
      this.target = sameTarget(b.target, p?.target) ? (p?.target ?? b.target) : b.target;
    if (b.flowKey !== undefined) this.flowKey = same(b.flowKey, p?.flowKey);
    if (b.userAgent !== undefined) this.userAgent = b.userAgent;
    if (b.identity !== undefined)
      this.identity = sameIdentity(b.identity, p?.identity)
        ? (p?.identity ?? b.identity)
        : b.identity;
  }

  /** The binding `b` refreshing `previous` (same AOR and key); see the constructor. */
  static refresh(b: Binding, previous: StoredBinding): StoredBinding {
    return new StoredBinding(b, previous.registeredAt, previous);
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

/** `previous` when it is the same string (a string already kept), else `next`. */
function same(next: string, previous: string | undefined): string {
  return next === previous ? previous : next;
}

function sameFlow(a: Flow, b: Flow): boolean {
  return (
    a.protocol === b.protocol &&
    a.flowId === b.flowId &&
    a.remote.address === b.remote.address &&
    a.remote.port === b.remote.port &&
    a.local.address === b.local.address &&
    a.local.port === b.local.port
  );
}

function sameTarget(a: Target, b: Target | undefined): boolean {
  if (a === b) return true;
  if (b === undefined) return false;
  return (
    a.protocol === b.protocol &&
    a.address === b.address &&
    a.port === b.port &&
    a.flowId === b.flowId &&
    a.serverName === b.serverName
  );
}

function sameIdentity(a: AuthIdentity, b: AuthIdentity | undefined): boolean {
  if (a === b) return true;
  if (b === undefined) return false;
  if (a.username !== b.username || a.realm !== b.realm) return false;
  const x = a.attributes;
  const y = b.attributes;
  if (x === y) return true;
  if (x === undefined || y === undefined) return false;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  return keys.every((k) => x[k] === y[k]);
}
