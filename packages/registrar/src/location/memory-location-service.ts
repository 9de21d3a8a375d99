/**
 * The in-memory location service: bindings per AOR, an index by flow, and one expiry heap swept
 * by a single timer on the injected clock (no timer per binding). Most AORs and flows have one
 * binding, so an index slot holds the binding itself and becomes an array only from the second.
 */
import { TypedEmitter, type Clock, type TimerHandle } from '@switchboard/sip-stack';
import { wallClock } from '../util/wall-clock.js';
import { compareBindings, type Binding } from './binding.js';
import { ExpiryHeap } from './expiry-heap.js';
import type {
  ApplyResult,
  BindingChange,
  BindingOp,
  LocationEvents,
  LocationService,
} from './location-service.js';
import { StoredBinding } from './stored-binding.js';

type Slot = StoredBinding | StoredBinding[];

export interface MemoryLocationServiceOptions {
  /** Time of expiry (default: wall clock). Share it with the Registrar. */
  clock?: Clock;
}

export class MemoryLocationService extends TypedEmitter<LocationEvents> implements LocationService {
  readonly #clock: Clock;
  readonly #aors = new Map<string, Slot>();
  readonly #flows = new Map<string, Slot>();
  readonly #heap = new ExpiryHeap<StoredBinding>();
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  #closed = false;

  constructor(options: MemoryLocationServiceOptions = {}) {
    super();
    this.#clock = options.clock ?? wallClock;
  }

  lookup(aor: string): Promise<Binding[]> {
    return Promise.resolve(this.#live(aor, this.#clock.now()));
  }

  apply(change: BindingChange): Promise<ApplyResult> {
    return Promise.resolve(this.#apply(change));
  }

  applyNow(change: BindingChange): ApplyResult {
    return this.#apply(change);
  }

  remove(aor: string, key: string): Promise<Binding | undefined> {
    const b = withKey(slotList(this.#aors.get(aor)), key);
    if (b === undefined) return Promise.resolve(undefined);
    this.#drop(b);
    this.emit('removed', b, 'removed');
    return Promise.resolve(b);
  }

  removeByFlow(flowKey: string): Promise<Binding[]> {
    const slot = this.#flows.get(flowKey);
    if (slot === undefined) return Promise.resolve([]);
    const gone = [...slotList(slot)];
    for (const b of gone) this.#drop(b);
    for (const b of gone) this.emit('removed', b, 'flow-closed');
    return Promise.resolve(gone);
  }

  expire(): Promise<Binding[]> {
    return Promise.resolve(this.#expireDue(this.#clock.now()));
  }

  bindings(): AsyncIterable<Binding> {
    const now = this.#clock.now();
    const live: Binding[] = [];
    for (const slot of this.#aors.values())
      for (const b of slotList(slot)) if (b.expiresAt > now) live.push(b);
    return asyncIterable(live);
  }

  count(): Promise<number> {
    return Promise.resolve(this.#heap.size);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    return Promise.resolve();
  }

  #live(aor: string, now: number): Binding[] {
    const slot = this.#aors.get(aor);
    if (slot === undefined) return [];
    if (!Array.isArray(slot)) return slot.expiresAt > now ? [slot] : [];
    return slot.filter((b) => b.expiresAt > now).sort(compareBindings);
  }

  /** RFC 3261 §10.3 steps 6-7: same Call-ID and a CSeq not higher than the binding's → abort all. */
  #outOfOrder(change: BindingChange, list: readonly StoredBinding[]): StoredBinding | undefined {
    const stale = (b: StoredBinding | undefined): boolean =>
      b !== undefined && b.callId === change.callId && change.cseq <= b.cseq;
    if (change.removeAll === true) return list.find(stale);
    for (const op of change.ops) {
      const b = withKey(list, opKey(op));
      if (stale(b)) return b;
    }
    return undefined;
  }

  #apply(change: BindingChange): ApplyResult {
    const now = this.#clock.now();
    this.#expireDue(now);
    const list = slotList(this.#aors.get(change.aor));
    const late = this.#outOfOrder(change, list);
    if (late !== undefined) return { ok: false, code: 'LOC_ERR_OUT_OF_ORDER', key: late.key };
    const after = countAfter(change, list);
    if (change.maxBindings !== undefined && change.maxBindings > 0) {
      if (after > change.maxBindings && after > list.length)
        return { ok: false, code: 'LOC_ERR_TOO_MANY_BINDINGS' };
    }
    const added: Binding[] = [];
    const refreshed: Binding[] = [];
    const previous: Binding[] = [];
    const removed: Binding[] = [];
    if (change.removeAll === true) {
      for (const b of [...list]) {
        this.#drop(b);
        removed.push(b);
      }
    }
    for (const op of change.ops) {
      // the AOR's bindings as they are now (earlier ops of this change may have changed them)
      const b = withKey(slotList(this.#aors.get(change.aor)), opKey(op));
      if (op.kind === 'remove') {
        if (b === undefined) continue;
        this.#drop(b);
        removed.push(b);
      } else if (b !== undefined) {
        const next = StoredBinding.refresh(op.binding, b);
        this.#replace(b, next);
        refreshed.push(next);
        previous.push(b);
      } else {
        const next = new StoredBinding(op.binding, op.binding.registeredAt);
        this.#add(next);
        added.push(next);
      }
    }
    this.#arm();
    for (const b of removed) this.emit('removed', b, 'unregistered');
    for (const b of added) this.emit('added', b);
    for (let i = 0; i < refreshed.length; i++)
      this.emit('refreshed', refreshed[i] as Binding, previous[i] as Binding);
    return { ok: true, bindings: this.#live(change.aor, now), added, refreshed, removed };
  }

  #add(b: StoredBinding): void {
    slotAdd(this.#aors, b.aor, b);
    this.#heap.push(b);
    if (b.flowKey !== undefined) slotAdd(this.#flows, b.flowKey, b);
  }

  #replace(previous: StoredBinding, next: StoredBinding): void {
    slotSwap(this.#aors, previous.aor, previous, next);
    if (previous.flowKey !== undefined) slotRemove(this.#flows, previous.flowKey, previous);
    if (next.flowKey !== undefined) slotAdd(this.#flows, next.flowKey, next);
    this.#heap.replace(previous, next);
  }

  #drop(b: StoredBinding): void {
    this.#heap.remove(b);
    slotRemove(this.#aors, b.aor, b);
    if (b.flowKey !== undefined) slotRemove(this.#flows, b.flowKey, b);
  }

  #expireDue(now: number): Binding[] {
    const gone: Binding[] = [];
    for (let b = this.#heap.popDue(now); b !== undefined; b = this.#heap.popDue(now)) {
      this.#drop(b);
      gone.push(b);
    }
    for (const b of gone) this.emit('expired', b);
    return gone;
  }

  /** Keeps one timer armed for the earliest deadline. */
  #arm(): void {
    if (this.#closed) return;
    const top = this.#heap.peek();
    if (top === undefined || top.at >= this.#timerAt) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timerAt = top.at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#expireDue(this.#clock.now());
      this.#arm();
    }, top.at - this.#clock.now());
  }
}

const NONE: readonly StoredBinding[] = Object.freeze([]);

/** The bindings of an index slot as a list (a one-element array for a single binding). */
function slotList(slot: Slot | undefined): readonly StoredBinding[] {
  return slot === undefined ? NONE : Array.isArray(slot) ? slot : [slot];
}

function withKey(list: readonly StoredBinding[], key: string): StoredBinding | undefined {
  for (const b of list) if (b.key === key) return b;
  return undefined;
}

function slotAdd(index: Map<string, Slot>, key: string, b: StoredBinding): void {
  const slot = index.get(key);
  if (slot === undefined) index.set(key, b);
  else if (Array.isArray(slot)) slot.push(b);
  else index.set(key, [slot, b]);
}

function slotRemove(index: Map<string, Slot>, key: string, b: StoredBinding): void {
  const slot = index.get(key);
  if (slot === b) {
    index.delete(key);
  } else if (Array.isArray(slot)) {
    const i = slot.indexOf(b);
    if (i >= 0) slot.splice(i, 1);
    if (slot.length === 1) index.set(key, slot[0] as StoredBinding);
  }
}

function slotSwap(
  index: Map<string, Slot>,
  key: string,
  from: StoredBinding,
  to: StoredBinding,
): void {
  const slot = index.get(key);
  if (slot === from) index.set(key, to);
  else if (Array.isArray(slot)) {
    const i = slot.indexOf(from);
    if (i >= 0) slot[i] = to;
  }
}

function asyncIterable<T>(items: readonly T[]): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      let i = 0;
      return {
        next: (): Promise<IteratorResult<T>> =>
          Promise.resolve(
            i < items.length
              ? { done: false, value: items[i++] as T }
              : { done: true, value: undefined },
          ),
      };
    },
  };
}

function opKey(op: BindingOp): string {
  return op.kind === 'remove' ? op.key : op.binding.key;
}

/** Number of bindings the AOR would have after the change (op keys are unique). */
function countAfter(change: BindingChange, list: readonly StoredBinding[]): number {
  if (change.removeAll === true) return change.ops.filter((op) => op.kind === 'upsert').length;
  let n = list.length;
  for (const op of change.ops) {
    const present = withKey(list, opKey(op)) !== undefined;
    if (op.kind === 'upsert' && !present) n++;
    if (op.kind === 'remove' && present) n--;
  }
  return n;
}
