/**
 * The media relay as the B2BUA needs it. The control plane adapts `@switchboard/rtp-relay` to this
 * interface; the native `RelaySession` already has this shape, so the adapter is one line
 * (`createSession: async (o) => relay.createSession(o)`). One session relays one media stream
 * (one m= line) between side 'a' and side 'b'.
 */

/** Which side of a relay session: by convention 'a' faces the caller, 'b' the callee. */
export type RelaySide = 'a' | 'b';

/** Where a side's peer receives, from its SDP (c= address, m= port, a=rtcp, a=rtcp-mux). */
export interface RelayRemote {
  address: string;
  rtpPort: number;
  rtcpPort?: number;
  rtcpMux?: boolean;
}

/** The relay's own ports for one side, to advertise in SDP sent to that side's peer. */
export interface RelayLocal {
  /** Address to write into SDP (the advertised one). */
  readonly address: string;
  readonly rtpPort: number;
  /** Undefined for a single-port (rtcp-mux) side. */
  readonly rtcpPort: number | undefined;
}

export interface RelaySideOptions {
  /** One port for RTP and RTCP (RFC 5761). */
  rtcpMux?: boolean;
  /** Index into the relay's local addresses (e.g. public vs private interface). */
  addressIndex?: number;
}

export interface MediaRelaySessionOptions {
  a?: RelaySideOptions;
  b?: RelaySideOptions;
  /** Clock rates of dynamic payload types (for jitter statistics). */
  clockRates?: Readonly<Record<number, number>>;
}

/** Counters of one side, the subset the B2BUA reads (CDR, quality). */
export interface MediaRelaySideStats {
  readonly packetsIn: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly bytesOut: number;
  readonly lastPacketAt: number | undefined;
}

export interface MediaRelayStats {
  readonly a: MediaRelaySideStats;
  readonly b: MediaRelaySideStats;
}

export type MediaRelaySessionEvents = {
  /** No media for the relay's idle timeout. */
  timeout: [event: { idleMs: number }];
  /** The session was closed (by us, or because the relay shut down). */
  closed: [event: { reason: string }];
};

export interface MediaRelaySession {
  readonly id: number | string;
  readonly closed: boolean;
  side(side: RelaySide): RelayLocal;
  /** Sets (or changes, on re-INVITE) where a side's media goes, as its SDP says. */
  setRemote(side: RelaySide, remote: RelayRemote): void;
  stats(): MediaRelayStats;
  /** Frees the ports. Safe to call more than once. */
  close(): void;
  on<K extends keyof MediaRelaySessionEvents>(
    event: K,
    listener: (...args: MediaRelaySessionEvents[K]) => void,
  ): this;
}

export interface MediaRelay {
  /**
   * Allocates ports for both sides. Rejects when the relay has no ports left or is closed; the
   * B2BUA then answers 503 with Retry-After.
   */
  createSession(options?: MediaRelaySessionOptions): Promise<MediaRelaySession>;
}
