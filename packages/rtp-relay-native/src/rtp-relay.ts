import { EventEmitter } from 'node:events';
import {
  loadNative,
  type NativeEvent,
  type NativeRelay,
  type NativeRelayOptions,
} from './native-binding.js';
import { RelaySession, type SessionEvent, type SessionSink } from './relay-session.js';
import { callNative, RtpErrorCode, RtpRelayError } from './rtp-relay-error.js';
import type {
  PortMode,
  RelayInfo,
  RelayMode,
  RelaySessionEvents,
  RelaySessionOptions,
  RtpRelayOptions,
} from './relay-types.js';

/** Relay-wide events: every session event, with the session first. */
export type RtpRelayEvents = {
  [K in keyof RelaySessionEvents]: [RelaySession, ...RelaySessionEvents[K]];
};

type Listener<K extends keyof RtpRelayEvents> = (...args: RtpRelayEvents[K]) => void;

function nativeOptions(o: RtpRelayOptions): NativeRelayOptions {
  const addresses = (o.addresses ?? ['0.0.0.0']).map((a, i) => {
    const entry = typeof a === 'string' ? { address: a } : { ...a };
    if (i === 0 && o.advertisedAddress !== undefined && entry.advertised === undefined) {
      return { ...entry, advertised: o.advertisedAddress };
    }
    return entry;
  });
  const kernel = o.kernel ?? true;
  const kernelOpts = typeof kernel === 'object' ? kernel : {};
  const n: NativeRelayOptions = {
    addresses,
    portMin: o.ports?.min ?? 30000,
    portMax: o.ports?.max ?? 39999,
    kernel: kernel !== false,
  };
  for (const [key, value] of [
    ['threads', o.threads],
    ['timeoutMs', o.timeoutMs],
    ['learnWindowMs', o.learnWindowMs],
    ['maxPacketSize', o.maxPacketSize],
    ['kernelPollMs', kernelOpts.pollMs],
    ['fileLimit', o.fileLimit],
  ] as const) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RtpRelayError(RtpErrorCode.BadOption, `${key}: must be a non-negative integer`);
    }
    n[key] = value;
  }
  if (kernelOpts.interfaces !== undefined) n.kernelInterfaces = [...kernelOpts.interfaces];
  if (o.portMode !== undefined) n.portMode = o.portMode;
  return n;
}

function toSessionEvent(e: NativeEvent): SessionEvent | undefined {
  const side = e.side === 'b' ? 'b' : 'a';
  const channel = e.channel === 'rtcp' ? 'rtcp' : 'rtp';
  const address = e.address ?? '';
  const port = e.port ?? 0;
  switch (e.kind) {
    case 'latched':
      return { type: 'latched', args: [{ side, channel, address, port }] };
    case 'sourceChanged':
      return {
        type: 'sourceChanged',
        args: [
          {
            side,
            channel,
            address,
            port,
            from: { address: e.fromAddress ?? '', port: e.fromPort ?? 0 },
          },
        ],
      };
    case 'timeout':
      return { type: 'timeout', args: [{ idleMs: e.idleMs ?? 0 }] };
    default:
      return undefined;
  }
}

/**
 * The native RTP relay: owns a port range on one or more local addresses, forwards media
 * in Rust threads (or the kernel), and reports rare events in batches.
 */
export class RtpRelay {
  #native: NativeRelay;
  #sessions = new Map<number, { session: RelaySession; sink: SessionSink }>();
  #pending = new Map<number, SessionSink>();
  #events = new EventEmitter<RtpRelayEvents>();
  #mode: RelayMode;
  #modeReason: string;
  #portMode: PortMode;
  #portModeReason: string;
  #closed = false;

  private constructor(options: RtpRelayOptions) {
    const { NativeRelay } = loadNative();
    const opts = nativeOptions(options);
    this.#native = callNative(() => new NativeRelay(opts, (batch) => this.#onBatch(batch)));
    const info = this.#native.info();
    this.#mode = info.mode === 'kernel' ? 'kernel' : 'userspace';
    this.#modeReason = info.reason;
    this.#portMode = info.portMode === 'shared' ? 'shared' : 'sockets';
    this.#portModeReason = info.portModeReason;
    options.logger?.info(
      {
        mode: this.#mode,
        reason: this.#modeReason,
        portMode: this.#portMode,
        portModeReason: this.#portModeReason,
        threads: info.threads,
        ports: `${opts.portMin}-${opts.portMax}`,
        addresses: opts.addresses.map((a) => a.address),
        fileLimit: info.fileLimit,
      },
      `rtp relay started in ${this.#mode} mode with ${this.#portMode} ports`,
    );
  }

  /** Starts a relay; throws `RtpRelayError` (`RTP_ERR_BAD_OPTION`, `RTP_ERR_NATIVE_LOAD`...). */
  static create(options: RtpRelayOptions = {}): RtpRelay {
    return new RtpRelay(options);
  }

  /** 'kernel' when the eBPF fast path is active, else 'userspace'. */
  get mode(): RelayMode {
    return this.#mode;
  }

  /** Why the relay runs in its mode (e.g. the missing privilege). */
  get modeReason(): string {
    return this.#modeReason;
  }

  /** 'shared' when sk_lookup steers the ports to shared sockets, else 'sockets'. */
  get portMode(): PortMode {
    return this.#portMode;
  }

  /** Why the relay uses its port mode (e.g. the missing privilege for shared ports). */
  get portModeReason(): string {
    return this.#portModeReason;
  }

  get closed(): boolean {
    return this.#closed;
  }

  info(): RelayInfo {
    const i = callNative(() => this.#native.info());
    return {
      mode: this.#mode,
      modeReason: this.#modeReason,
      portMode: this.#portMode,
      portModeReason: this.#portModeReason,
      unusedPortDrops: i.unusedPortDrops,
      threads: i.threads,
      fileLimit: i.fileLimit,
      ports: { total: i.portsTotal, free: i.portsFree },
      sessions: i.sessions,
    };
  }

  /** Allocates ports for both sides; throws `RTP_ERR_PORTS_EXHAUSTED`, `RTP_ERR_BIND`... */
  createSession(options: RelaySessionOptions = {}): RelaySession {
    if (this.#closed) throw new RtpRelayError(RtpErrorCode.RelayClosed, 'the relay is closed');
    const { clockRates, ...rest } = options;
    const native = {
      ...rest,
      ...(clockRates !== undefined
        ? {
            clockRates: Object.entries(clockRates).map(([pt, rate]) => ({
              payloadType: Number(pt),
              clockRate: rate,
            })),
          }
        : {}),
    };
    const info = callNative(() => this.#native.createSession(native));
    const session = new RelaySession(info, {
      native: this.#native,
      attach: (id, sink) => this.#pending.set(id, sink),
      forget: (id) => this.#sessions.delete(id),
    });
    const sink = this.#pending.get(info.id);
    this.#pending.delete(info.id);
    if (sink !== undefined) this.#sessions.set(info.id, { session, sink });
    return session;
  }

  on<K extends keyof RtpRelayEvents>(event: K, listener: Listener<K>): this {
    this.#events.on(event, listener as never);
    return this;
  }

  off<K extends keyof RtpRelayEvents>(event: K, listener: Listener<K>): this {
    this.#events.off(event, listener as never);
    return this;
  }

  /** Stops the threads, closes every session's sockets. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
    const open = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const { session, sink } of open) {
      sink.closed('relay-closed');
      this.#emit('closed', [session, { reason: 'relay-closed' }]);
    }
  }

  #emit<K extends keyof RtpRelayEvents>(event: K, args: RtpRelayEvents[K]): void {
    (this.#events.emit as (name: string, ...a: unknown[]) => boolean)(event, ...args);
  }

  /** One call per native batch; dispatches each event to its session. */
  #onBatch(batch: NativeEvent[]): void {
    for (const e of batch) {
      const entry = this.#sessions.get(e.sessionId);
      if (entry === undefined) continue;
      if (e.kind === 'closed') {
        this.#sessions.delete(e.sessionId);
        entry.sink.closed('closed');
        this.#emit('closed', [entry.session, { reason: 'closed' }]);
        continue;
      }
      const ev = toSessionEvent(e);
      if (ev === undefined) continue;
      entry.sink.event(ev);
      (this.#events.emit as (name: string, ...a: unknown[]) => boolean)(
        ev.type,
        entry.session,
        ...ev.args,
      );
    }
  }
}
