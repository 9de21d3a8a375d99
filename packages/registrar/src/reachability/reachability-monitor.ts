/**
 * Reachability of registered contacts: OPTIONS qualify on an interval, CRLF keep-alive pings
 * (RFC 5626 §4.4.1 double-CRLF) on outbound stream flows, and `reachable` / `unreachable` events
 * when a binding's state changes. Two timers on the injected clock, whatever the binding count.
 */
import {
  isStreamProtocol,
  TypedEmitter,
  type Clock,
  type Target,
  type TimerHandle,
} from '@switchboard/sip-stack';
import type { Binding } from '../location/binding.js';
import type { LocationService } from '../location/location-service.js';
import { wallClock } from '../util/wall-clock.js';
import type { QualifyClient } from './qualify-client.js';

export type ReachabilityState = 'reachable' | 'unreachable';
export type UnreachableReason = 'timeout' | 'transport' | 'keepalive-failed';

export type ReachabilityEvents = {
  reachable: [binding: Binding];
  unreachable: [binding: Binding, reason: UnreachableReason];
};

/** Sends bytes over an existing flow (TransportLayer.sendBuffer). */
export interface KeepAliveSender {
  sendBuffer(bytes: Buffer, target: Target): Promise<unknown>;
}

export interface ReachabilityOptions {
  qualify?: { client: QualifyClient; intervalMs: number; concurrency?: number };
  keepAlive?: { sender: KeepAliveSender; intervalMs: number };
  /** Only these bindings are checked (e.g. the ones whose flow is on this node). */
  filter?: (binding: Binding) => boolean;
}

export interface ReachabilityMonitorOptions extends ReachabilityOptions {
  location: LocationService;
  clock?: Clock;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

function stateKey(b: Pick<Binding, 'aor' | 'key'>): string {
  return `${b.aor}\n${b.key}`;
}

async function forEachLimited<T>(
  items: AsyncIterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  for await (const item of items) {
    const p: Promise<void> = fn(item).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
}

export class ReachabilityMonitor extends TypedEmitter<ReachabilityEvents> {
  readonly #options: ReachabilityMonitorOptions;
  readonly #clock: Clock;
  readonly #states = new Map<string, ReachabilityState>();
  readonly #forget = (b: Binding): void => void this.#states.delete(stateKey(b));
  #qualifyTimer: TimerHandle | undefined;
  #keepAliveTimer: TimerHandle | undefined;
  #qualifying = false;
  #running = false;

  constructor(options: ReachabilityMonitorOptions) {
    super();
    this.#options = options;
    this.#clock = options.clock ?? wallClock;
  }

  /** Starts the qualify and keep-alive timers. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#options.location.on('removed', this.#forget).on('expired', this.#forget);
    this.#armQualify();
    this.#armKeepAlive();
  }

  /** Stops the timers and stops listening to the location service; idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#clock.clearTimeout(this.#qualifyTimer);
    this.#clock.clearTimeout(this.#keepAliveTimer);
    this.#qualifyTimer = this.#keepAliveTimer = undefined;
    this.#options.location.off('removed', this.#forget).off('expired', this.#forget);
  }

  /** Last known state of a binding (undefined before its first check). */
  state(binding: Pick<Binding, 'aor' | 'key'>): ReachabilityState | undefined {
    return this.#states.get(stateKey(binding));
  }

  /** One qualify pass over every binding (skipped while a pass is running). */
  async qualifyAll(): Promise<void> {
    const q = this.#options.qualify;
    if (q === undefined || this.#qualifying) return;
    this.#qualifying = true;
    const seen = new Set<string>();
    try {
      await forEachLimited(this.#selected(), q.concurrency ?? 32, async (b) => {
        seen.add(stateKey(b));
        await this.qualify(b);
      });
      for (const key of [...this.#states.keys()]) if (!seen.has(key)) this.#states.delete(key);
    } finally {
      this.#qualifying = false;
    }
  }

  /** Qualifies one binding and records its state. */
  async qualify(binding: Binding): Promise<ReachabilityState | undefined> {
    const q = this.#options.qualify;
    if (q === undefined) return undefined;
    const r = await q.client
      .qualify(binding)
      .catch(() => ({ ok: false, reason: 'transport' }) as const);
    if (r.ok) this.#set(binding, 'reachable');
    else if (r.reason !== 'no-target') this.#set(binding, 'unreachable', r.reason);
    return this.state(binding);
  }

  /** Sends a CRLFCRLF ping on every outbound stream flow (not WebSocket: it has its own pings). */
  async keepAliveAll(): Promise<void> {
    const k = this.#options.keepAlive;
    if (k === undefined) return;
    await forEachLimited(this.#selected(), 64, async (b) => {
      const t = b.target;
      if (!b.outbound || t?.flowId === undefined) return;
      if (!isStreamProtocol(t.protocol) || t.protocol === 'ws' || t.protocol === 'wss') return;
      await k.sender
        .sendBuffer(CRLFCRLF, t)
        .catch(() => this.#set(b, 'unreachable', 'keepalive-failed'));
    });
  }

  async *#selected(): AsyncIterable<Binding> {
    const filter = this.#options.filter;
    for await (const b of this.#options.location.bindings())
      if (filter === undefined || filter(b)) yield b;
  }

  #set(b: Binding, next: ReachabilityState, reason?: UnreachableReason): void {
    const key = stateKey(b);
    if (this.#states.get(key) === next) return;
    this.#states.set(key, next);
    if (next === 'reachable') this.emit('reachable', b);
    else this.emit('unreachable', b, reason ?? 'timeout');
  }

  #armQualify(): void {
    const q = this.#options.qualify;
    if (!this.#running || q === undefined || q.intervalMs <= 0) return;
    this.#qualifyTimer = this.#clock.setTimeout(() => {
      void this.qualifyAll().finally(() => this.#armQualify());
    }, q.intervalMs);
  }

  #armKeepAlive(): void {
    const k = this.#options.keepAlive;
    if (!this.#running || k === undefined || k.intervalMs <= 0) return;
    this.#keepAliveTimer = this.#clock.setTimeout(() => {
      void this.keepAliveAll().finally(() => this.#armKeepAlive());
    }, k.intervalMs);
  }
}
