import { EventEmitter } from 'node:events';
import type { NativeRelay, NativeSessionInfo, NativeSideInfo } from './native-binding.js';
import { callNative, RtpErrorCode, RtpRelayError } from './rtp-relay-error.js';
import { sessionStats, statsBuffer } from './relay-stats.js';
import type {
  ClosedReason,
  RelaySessionEvents,
  RelaySessionStats,
  RelaySideInfo,
  RemoteEndpoint,
  SessionSide,
} from './relay-types.js';

/** One event for a session, as the relay dispatches it from a native batch. */
export type SessionEvent = {
  [K in Exclude<keyof RelaySessionEvents, 'closed'>]: { type: K; args: RelaySessionEvents[K] };
}[Exclude<keyof RelaySessionEvents, 'closed'>];

/** How the relay reaches a session it created. */
export interface SessionSink {
  event(event: SessionEvent): void;
  closed(reason: ClosedReason): void;
}

/** What a session needs from its relay; given by `RtpRelay`, not by users. */
export interface SessionLink {
  native: NativeRelay;
  attach(id: number, sink: SessionSink): void;
  /** Tells the relay the session will not be used any more. */
  forget(id: number): void;
}

type Listener<K extends keyof RelaySessionEvents> = (...args: RelaySessionEvents[K]) => void;

function sideInfo(s: NativeSideInfo): RelaySideInfo {
  return {
    address: s.address,
    localAddress: s.localAddress,
    rtpPort: s.rtpPort,
    rtcpPort: s.rtcpPort,
  };
}

/** Filled by `statsInto` and read out at once (calls are synchronous on one thread). */
const statsScratch = statsBuffer();

/**
 * Two sides ('a' and 'b') of a relayed media stream, each with local RTP/RTCP ports.
 * Packets from A's remote go out of B's socket to B's remote and vice versa.
 */
export class RelaySession {
  readonly id: number;
  readonly a: RelaySideInfo;
  readonly b: RelaySideInfo;
  #link: SessionLink;
  #events = new EventEmitter<RelaySessionEvents>();
  #closed = false;
  #closedEmitted = false;

  constructor(info: NativeSessionInfo, link: SessionLink) {
    this.id = info.id;
    this.a = Object.freeze(sideInfo(info.a));
    this.b = Object.freeze(sideInfo(info.b));
    this.#link = link;
    link.attach(this.id, {
      event: (e) => this.#emit(e),
      closed: (reason) => this.#markClosed(reason),
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  side(side: SessionSide): RelaySideInfo {
    return side === 'a' ? this.a : this.b;
  }

  /** Sets (or changes, on re-INVITE/hold) where a side's media goes, as its SDP says. */
  setRemote(side: SessionSide, remote: RemoteEndpoint): void {
    this.#assertOpen();
    if (side !== 'a' && side !== 'b') {
      throw new RtpRelayError(RtpErrorCode.BadOption, `side must be 'a' or 'b'`);
    }
    const r = remote as Partial<RemoteEndpoint> | null | undefined;
    if (typeof r?.address !== 'string' || !Number.isInteger(r.rtpPort)) {
      throw new RtpRelayError(
        RtpErrorCode.BadAddress,
        'remote needs an address and an integer rtpPort',
      );
    }
    const rtcpPort = r.rtcpPort;
    if (rtcpPort !== undefined && !Number.isInteger(rtcpPort)) {
      throw new RtpRelayError(RtpErrorCode.BadAddress, 'rtcpPort must be an integer');
    }
    const { address } = r;
    const rtpPort = Math.max(0, r.rtpPort ?? 0);
    const rtcp = rtcpPort !== undefined ? Math.max(0, rtcpPort) : undefined;
    const mux = r.rtcpMux === true;
    const index = side === 'a' ? 0 : 1;
    callNative(() => this.#link.native.setRemote(this.id, index, address, rtpPort, rtcp, mux));
  }

  stats(): RelaySessionStats {
    this.#assertOpen();
    const v6 = callNative(() => this.#link.native.statsInto(this.id, statsScratch));
    return sessionStats(statsScratch, v6);
  }

  /** Closes the sockets and frees the ports. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      callNative(() => this.#link.native.closeSession(this.id));
    } catch {
      // The relay is already closed; its shutdown released everything.
      this.#link.forget(this.id);
      this.#markClosed('relay-closed');
    }
  }

  on<K extends keyof RelaySessionEvents>(event: K, listener: Listener<K>): this {
    this.#events.on(event, listener as never);
    return this;
  }

  once<K extends keyof RelaySessionEvents>(event: K, listener: Listener<K>): this {
    this.#events.once(event, listener as never);
    return this;
  }

  off<K extends keyof RelaySessionEvents>(event: K, listener: Listener<K>): this {
    this.#events.off(event, listener as never);
    return this;
  }

  #emit(e: SessionEvent): void {
    if (this.#closedEmitted) return;
    (this.#events.emit as (name: string, ...args: unknown[]) => boolean)(e.type, ...e.args);
  }

  /** Marks the session closed and emits `closed` once. */
  #markClosed(reason: ClosedReason): void {
    this.#closed = true;
    if (this.#closedEmitted) return;
    this.#closedEmitted = true;
    this.#events.emit('closed', { reason });
    this.#events.removeAllListeners();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new RtpRelayError(RtpErrorCode.SessionClosed, `session ${this.id} is closed`);
    }
  }
}
