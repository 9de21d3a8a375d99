/**
 * The in-memory location service: bindings per AOR in small arrays, an index by flow, and one
 * expiry heap swept by a single timer on the injected clock (no timer per binding).
 */
import { TypedEmitter, type Clock, type TimerHandle } from '@switchboard/sip-stack';
import { wallClock } from '../util/wall-clock.js';
import { compareBindings, type Binding } from './binding.js';
import { ExpiryHeap, type HeapItem } from './expiry-heap.js';
import type {
  ApplyResult,
  BindingChange,
  LocationEvents,
  LocationService,
} from './location-service.js';

interface Entry extends HeapItem {
  b: Binding;
}

export interface MemoryLocationServiceOptions {
  /** Time of expiry (default: wall clock). Share it with the Registrar. */
  clock?: Clock;
}

export class MemoryLocationService extends TypedEmitter<LocationEvents> implements LocationService {
  readonly #clock: Clock;
  readonly #aors = new Map<string, Entry[]>();
  readonly #flows = new Map<string, Entry[]>();
  readonly #heap = new ExpiryHeap<Entry>();
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

  remove(aor: string, key: string): Promise<Binding | undefined> {
    const e = this.#aors.get(aor)?.find((x) => x.b.key === key);
    if (e === undefined) return Promise.resolve(undefined);
    this.#drop(e);
    this.emit('removed', e.b, 'removed');
    return Promise.resolve(e.b);
  }

  removeByFlow(flowKey: string): Promise<Binding[]> {
    const list = this.#flows.get(flowKey);
    if (list === undefined) return Promise.resolve([]);
    const gone = [...list];
    for (const e of gone) this.#drop(e);
    for (const e of gone) this.emit('removed', e.b, 'flow-closed');
    return Promise.resolve(gone.map((e) => e.b));
  }

  expire(): Promise<Binding[]> {
    return Promise.resolve(this.#expireDue(this.#clock.now()));
  }

  bindings(): AsyncIterable<Binding> {
    const now = this.#clock.now();
    const live: Binding[] = [];
    for (const list of this.#aors.values()) for (const e of list) if (e.at > now) live.push(e.b);
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
    const list = this.#aors.get(aor);
    if (list === undefined) return [];
    return list
      .filter((e) => e.at > now)
      .map((e) => e.b)
      .sort(compareBindings);
  }

  #apply(change: BindingChange): ApplyResult {
    const now = this.#clock.now();
    this.#expireDue(now);
    const list = this.#aors.get(change.aor) ?? [];
    const find = (key: string): Entry | undefined => list.find((e) => e.b.key === key);
    // RFC 3261 §10.3 steps 6-7: same Call-ID and a CSeq not higher than the binding's → abort all
    const touched = change.removeAll === true ? list : change.ops.map((op) => find(opKey(op)));
    for (const e of touched) {
      if (e !== undefined && e.b.callId === change.callId && change.cseq <= e.b.cseq)
        return { ok: false, code: 'LOC_ERR_OUT_OF_ORDER', key: e.b.key };
    }
    const after = countAfter(change, list.length, (key) => find(key) !== undefined);
    if (change.maxBindings !== undefined && change.maxBindings > 0) {
      if (after > change.maxBindings && after > list.length)
        return { ok: false, code: 'LOC_ERR_TOO_MANY_BINDINGS' };
    }
    const added: Binding[] = [];
    const refreshed: [Binding, Binding][] = [];
    const removed: Binding[] = [];
    if (change.removeAll === true) {
      for (const e of [...list]) {
        this.#drop(e);
        removed.push(e.b);
      }
    }
    for (const op of change.ops) {
      const e = find(opKey(op));
      if (op.kind === 'remove') {
        if (e === undefined || e.heapIndex < 0) continue;
        this.#drop(e);
        removed.push(e.b);
      } else if (e !== undefined && e.heapIndex >= 0) {
        const next = { ...op.binding, registeredAt: e.b.registeredAt };
        refreshed.push([next, e.b]);
        this.#replace(e, next);
      } else {
        this.#add(op.binding);
        added.push(op.binding);
      }
    }
    this.#arm();
    for (const b of removed) this.emit('removed', b, 'unregistered');
    for (const b of added) this.emit('added', b);
    for (const [b, prev] of refreshed) this.emit('refreshed', b, prev);
    return {
      ok: true,
      bindings: this.#live(change.aor, now),
      added,
      refreshed: refreshed.map(([b]) => b),
      removed,
    };
  }

  #add(b: Binding): void {
    const e: Entry = { b, at: b.expiresAt, heapIndex: -1 };
    const list = this.#aors.get(b.aor);
    if (list === undefined) this.#aors.set(b.aor, [e]);
    else list.push(e);
    this.#heap.push(e);
    if (b.flowKey !== undefined) this.#indexFlow(e, b.flowKey);
  }

  #replace(e: Entry, next: Binding): void {
    if (e.b.flowKey !== next.flowKey) {
      if (e.b.flowKey !== undefined) this.#unindexFlow(e, e.b.flowKey);
      if (next.flowKey !== undefined) this.#indexFlow(e, next.flowKey);
    }
    e.b = next;
    e.at = next.expiresAt;
    this.#heap.update(e);
  }

  #drop(e: Entry): void {
    this.#heap.remove(e);
    const list = this.#aors.get(e.b.aor);
    if (list !== undefined) {
      const i = list.indexOf(e);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.#aors.delete(e.b.aor);
    }
    if (e.b.flowKey !== undefined) this.#unindexFlow(e, e.b.flowKey);
  }

  #indexFlow(e: Entry, flowKey: string): void {
    const list = this.#flows.get(flowKey);
    if (list === undefined) this.#flows.set(flowKey, [e]);
    else list.push(e);
  }

  #unindexFlow(e: Entry, flowKey: string): void {
    const list = this.#flows.get(flowKey);
    if (list === undefined) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#flows.delete(flowKey);
  }

  #expireDue(now: number): Binding[] {
    const gone: Binding[] = [];
    for (let e = this.#heap.popDue(now); e !== undefined; e = this.#heap.popDue(now)) {
      this.#drop(e);
      gone.push(e.b);
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

function opKey(op: BindingChange['ops'][number]): string {
  return op.kind === 'remove' ? op.key : op.binding.key;
}

/** Number of bindings the AOR would have after the change (op keys are unique). */
function countAfter(
  change: BindingChange,
  before: number,
  exists: (key: string) => boolean,
): number {
  if (change.removeAll === true) return change.ops.filter((op) => op.kind === 'upsert').length;
  let n = before;
  for (const op of change.ops) {
    const present = exists(opKey(op));
    if (op.kind === 'upsert' && !present) n++;
    if (op.kind === 'remove' && present) n--;
  }
  return n;
}
