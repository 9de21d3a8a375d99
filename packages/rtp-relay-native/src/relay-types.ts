/** Public option, stats and event shapes of the relay. */

export type RelayMode = 'kernel' | 'userspace';
/**
 * How relay ports receive: `sockets` binds a UDP socket per port (4 descriptors per
 * session); `shared` steers packets with an eBPF sk_lookup program to a few shared
 * sockets and sends through raw sockets (no descriptor per session).
 */
export type PortMode = 'sockets' | 'shared';
/** `auto` (default): `shared` when the build, privileges and kernel allow, else `sockets`. */
export type PortModeOption = 'auto' | PortMode;
export type SessionSide = 'a' | 'b';
export type MediaChannel = 'rtp' | 'rtcp';
/** `heuristic` (default): prefer SDP address+port, then address, then any, within the learning window. */
export type LatchingMode = 'immediate' | 'heuristic' | 'off';
/** What a new source after latching does: move the latch, or be dropped. */
export type SourceChangePolicy = 'relearn' | 'drop';
export type MediaPath = 'kernel' | 'userspace';

/** pino-compatible subset. */
export interface RtpRelayLogger {
  info(obj: object, msg: string): void;
  warn?(obj: object, msg: string): void;
}

export interface LocalAddressOptions {
  /** IPv4 or IPv6 address the relay binds (`0.0.0.0` / `::` for all). */
  address: string;
  /** Address to put in SDP for sockets on `address` (defaults to `address`). */
  advertised?: string;
}

export interface KernelOptions {
  /** Interfaces to attach the tc/tcx program to (default: chosen by the kernel path). */
  interfaces?: string[];
  /** How often kernel counters are read into stats (default 1000 ms). */
  pollMs?: number;
}

export interface RtpRelayOptions {
  /** Even/odd port pairs are taken from this range (default 30000–39999). */
  ports?: { min: number; max: number };
  /** Local addresses (default `['0.0.0.0']`); a session side picks one by index. */
  addresses?: ReadonlyArray<string | LocalAddressOptions>;
  /** Advertised address of the first local address (shorthand). */
  advertisedAddress?: string;
  /** Forwarding threads (default: one per core). */
  threads?: number;
  /** No-media timeout (default 60 000 ms). */
  timeoutMs?: number;
  /** Heuristic latching window (default 3000 ms). */
  learnWindowMs?: number;
  /** Larger datagrams are dropped as oversize (default 2048 bytes). */
  maxPacketSize?: number;
  /**
   * Open-file limit to reach at start (default 262144; 0 leaves it alone). The soft limit
   * is raised up to the hard limit, and the hard limit too when the process may.
   */
  fileLimit?: number;
  /** The eBPF fast path: false disables it; default on when the process may use it. */
  kernel?: boolean | KernelOptions;
  /**
   * Port mode (default `auto`). `shared` needs CAP_BPF, CAP_NET_ADMIN and CAP_NET_RAW and
   * fails with `RTP_ERR_UNSUPPORTED` where they (or the kernel) are missing.
   */
  portMode?: PortModeOption;
  logger?: RtpRelayLogger;
}

export interface RelaySideOptions {
  /** Index into the relay's `addresses` (default 0). */
  addressIndex?: number;
  /** One port for RTP and RTCP (RFC 5761) instead of an even/odd pair. */
  rtcpMux?: boolean;
}

export interface RelaySessionOptions {
  latching?: LatchingMode;
  /** Drop packets from anything but the latched source (or the SDP source when latching is off). */
  strictSource?: boolean;
  sourceChange?: SourceChangePolicy;
  learnWindowMs?: number;
  /** Overrides the relay's no-media timeout for this session. */
  timeoutMs?: number;
  a?: RelaySideOptions;
  b?: RelaySideOptions;
  /** Clock rates of dynamic payload types, for jitter (static types use RFC 3551). */
  clockRates?: Readonly<Record<number, number>>;
}

/** A side's remote end, from SDP (c= address, m= port, a=rtcp, a=rtcp-mux). */
export interface RemoteEndpoint {
  address: string;
  rtpPort: number;
  rtcpPort?: number;
  rtcpMux?: boolean;
}

export interface RelaySideInfo {
  /** Advertised address for SDP. */
  address: string;
  localAddress: string;
  rtpPort: number;
  /** Undefined for a single-port (rtcp-mux) side. */
  rtcpPort: number | undefined;
}

export interface DropCounters {
  garbage: number;
  notRtp: number;
  oversize: number;
  unexpectedSource: number;
  noRemote: number;
  sendError: number;
}

export interface RelaySideStats {
  /** Packets/bytes received from this side's remote (userspace + kernel). */
  packetsIn: number;
  bytesIn: number;
  /** Packets/bytes sent to this side's remote (userspace + kernel). */
  packetsOut: number;
  bytesOut: number;
  kernelPackets: number;
  kernelBytes: number;
  dropped: DropCounters;
  /** RFC 3550 A.1/A.3 sequence accounting of packets seen in userspace. */
  rtpExpected: number;
  rtpLost: number;
  /** RFC 3550 §6.4.1 interarrival jitter in timestamp units, and in ms. */
  jitter: number;
  jitterMs: number;
  /** Unix ms of the last accepted packet, or undefined. */
  lastPacketAt: number | undefined;
  latched: { address: string; port: number } | undefined;
  path: MediaPath;
}

export interface RelaySessionStats {
  a: RelaySideStats;
  b: RelaySideStats;
}

export interface RelayInfo {
  mode: RelayMode;
  modeReason: string;
  portMode: PortMode;
  portModeReason: string;
  /**
   * Packets sent to relay ports no session owns (counted in shared mode; the kernel
   * drops them uncounted in sockets mode, so 0 there).
   */
  unusedPortDrops: number;
  threads: number;
  fileLimit: number | undefined;
  ports: { total: number; free: number };
  sessions: number;
}

export interface LatchedEvent {
  side: SessionSide;
  channel: MediaChannel;
  address: string;
  port: number;
}

export interface SourceChangedEvent extends LatchedEvent {
  from: { address: string; port: number };
}

export interface TimeoutEvent {
  idleMs: number;
}

export type ClosedReason = 'closed' | 'relay-closed';

export interface ClosedEvent {
  reason: ClosedReason;
}

export type RelaySessionEvents = {
  latched: [LatchedEvent];
  sourceChanged: [SourceChangedEvent];
  timeout: [TimeoutEvent];
  closed: [ClosedEvent];
};
