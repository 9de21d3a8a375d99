/**
 * Registrations visible to every worker (in-memory mode): each worker keeps a full in-memory
 * location service; every change made here is published to the others, which apply it to their
 * copy without emitting events (so presence events are sent once, by the worker that made the
 * change). Expiry runs on each copy; only the worker with `emitExpiry` reports it.
 */
import { TypedEmitter } from '@switchboard/sip-stack';
import {
  MemoryLocationService,
  type ApplyResult,
  type Binding,
  type BindingChange,
  type LocationEvents,
  type LocationService,
} from '@switchboard/registrar';

/** One replicated change, as published to the other workers (JSON-serialisable). */
export type LocationReplication =
  | { op: 'set'; aor: string; upsert: Binding[]; remove: string[] }
  | { op: 'remove'; aor: string; key: string }
  | { op: 'flow'; flowKey: string }
  | { op: 'snapshot'; bindings: Binding[] };

export interface ReplicatedLocationOptions {
  /** Sends a change to every other worker. */
  publish: (change: LocationReplication) => void;
  /** Whether this copy reports expiries (exactly one worker should). */
  emitExpiry: boolean;
  inner?: MemoryLocationService;
}

export class ReplicatedLocationService
  extends TypedEmitter<LocationEvents>
  implements LocationService
{
  readonly #inner: MemoryLocationService;
  readonly #publish: (change: LocationReplication) => void;
  #remote = false;

  constructor(options: ReplicatedLocationOptions) {
    super();
    this.#inner = options.inner ?? new MemoryLocationService();
    this.#publish = options.publish;
    const inner = this.#inner;
    inner.on('added', (b) => void (this.#remote || this.emit('added', b)));
    inner.on('refreshed', (b, p) => void (this.#remote || this.emit('refreshed', b, p)));
    inner.on('removed', (b, r) => void (this.#remote || this.emit('removed', b, r)));
    if (options.emitExpiry) inner.on('expired', (b) => void this.emit('expired', b));
  }

  lookup(aor: string): Promise<Binding[]> {
    return this.#inner.lookup(aor);
  }

  async apply(change: BindingChange): Promise<ApplyResult> {
    const result = await this.#inner.apply(change);
    if (result.ok && result.added.length + result.refreshed.length + result.removed.length > 0) {
      this.#publish({
        op: 'set',
        aor: change.aor,
        upsert: [...result.added, ...result.refreshed],
        remove: result.removed.map((b) => b.key),
      });
    }
    return result;
  }

  async remove(aor: string, key: string): Promise<Binding | undefined> {
    const gone = await this.#inner.remove(aor, key);
    if (gone !== undefined) this.#publish({ op: 'remove', aor, key });
    return gone;
  }

  async removeByFlow(flowKey: string): Promise<Binding[]> {
    const gone = await this.#inner.removeByFlow(flowKey);
    if (gone.length > 0) this.#publish({ op: 'flow', flowKey });
    return gone;
  }

  expire(): Promise<Binding[]> {
    return this.#inner.expire();
  }

  bindings(): AsyncIterable<Binding> {
    return this.#inner.bindings();
  }

  count(): Promise<number> {
    return this.#inner.count();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Every live binding, for a worker that joins late. */
  async snapshot(): Promise<LocationReplication> {
    const bindings: Binding[] = [];
    for await (const b of this.#inner.bindings()) bindings.push(b);
    return { op: 'snapshot', bindings };
  }

  /** Applies a change another worker published; emits nothing and publishes nothing. */
  async applyRemote(change: LocationReplication): Promise<void> {
    await this.#quiet(() => this.#applyRemote(change));
  }

  /**
   * Runs `fn` with event forwarding off. The memory service changes state and emits synchronously
   * inside the call, so the flag never covers another caller's change.
   */
  #quiet<T>(fn: () => T): T {
    this.#remote = true;
    try {
      return fn();
    } finally {
      this.#remote = false;
    }
  }

  #applyRemote(change: LocationReplication): Promise<unknown> {
    switch (change.op) {
      case 'set':
        // Call-ID '' never equals a stored one, so the §10.3 ordering check cannot refuse a copy.
        return this.#inner.apply({
          aor: change.aor,
          callId: '',
          cseq: 0,
          ops: [
            ...change.upsert.map((binding) => ({ kind: 'upsert' as const, binding })),
            ...change.remove.map((key) => ({ kind: 'remove' as const, key })),
          ],
        });
      case 'remove':
        return this.#inner.remove(change.aor, change.key);
      case 'flow':
        return this.#inner.removeByFlow(change.flowKey);
      case 'snapshot': {
        const byAor = new Map<string, Binding[]>();
        for (const b of change.bindings) byAor.set(b.aor, [...(byAor.get(b.aor) ?? []), b]);
        return Promise.all(
          [...byAor].map(([aor, upsert]) =>
            this.#applyRemote({ op: 'set', aor, upsert, remove: [] }),
          ),
        );
      }
    }
  }
}
