/**
 * The native relay (`@switchboard/rtp-relay`) as the B2BUA's `MediaRelay` (DESIGN.md: `b2bua`
 * defines the interface, `control` adapts the native package to it).
 */
import type {
  MediaRelay,
  MediaRelaySession,
  MediaRelaySessionEvents,
  MediaRelaySessionOptions,
  MediaRelayStats,
  RelayLocal,
  RelayRemote,
  RelaySide,
} from '@switchboard/b2bua';
import type { RelaySession, RelaySessionOptions } from '@switchboard/rtp-relay';

/** What the adapter needs of an `RtpRelay`. */
export interface NativeRelay {
  createSession(options?: RelaySessionOptions): RelaySession;
}

const NO_TRAFFIC = {
  packetsIn: 0,
  bytesIn: 0,
  packetsOut: 0,
  bytesOut: 0,
  lastPacketAt: undefined,
} as const;

type Listener<K extends keyof MediaRelaySessionEvents> = (
  ...args: MediaRelaySessionEvents[K]
) => void;

/** One native session; its counters stay readable after close (the last ones read). */
export class NativeMediaRelaySession implements MediaRelaySession {
  readonly #native: RelaySession;
  #last: MediaRelayStats = { a: NO_TRAFFIC, b: NO_TRAFFIC };

  constructor(native: RelaySession) {
    this.#native = native;
  }

  get id(): number {
    return this.#native.id;
  }

  get closed(): boolean {
    return this.#native.closed;
  }

  side(side: RelaySide): RelayLocal {
    const s = this.#native.side(side);
    return { address: s.address, rtpPort: s.rtpPort, rtcpPort: s.rtcpPort };
  }

  setRemote(side: RelaySide, remote: RelayRemote): void {
    this.#native.setRemote(side, remote);
  }

  stats(): MediaRelayStats {
    if (this.#native.closed) return this.#last;
    const s = this.#native.stats();
    this.#last = { a: s.a, b: s.b };
    return this.#last;
  }

  close(): void {
    if (!this.#native.closed) this.stats();
    this.#native.close();
  }

  on<K extends keyof MediaRelaySessionEvents>(event: K, listener: Listener<K>): this {
    if (event === 'timeout') {
      const l = listener as Listener<'timeout'>;
      this.#native.on('timeout', (e) => l({ idleMs: e.idleMs }));
    } else {
      const l = listener as Listener<'closed'>;
      this.#native.on('closed', (e) => l({ reason: e.reason }));
    }
    return this;
  }
}

/** `MediaRelay` over a native relay; a relay without free ports rejects (the B2BUA answers 503). */
export class NativeMediaRelay implements MediaRelay {
  readonly #relay: NativeRelay;
  #created = 0;

  constructor(relay: NativeRelay) {
    this.#relay = relay;
  }

  /** Sessions created through this adapter (closed ones included). */
  get created(): number {
    return this.#created;
  }

  createSession(options: MediaRelaySessionOptions = {}): Promise<MediaRelaySession> {
    try {
      const native = this.#relay.createSession({
        ...(options.a === undefined ? {} : { a: { ...options.a } }),
        ...(options.b === undefined ? {} : { b: { ...options.b } }),
        ...(options.clockRates === undefined ? {} : { clockRates: options.clockRates }),
      });
      this.#created++;
      return Promise.resolve(new NativeMediaRelaySession(native));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
