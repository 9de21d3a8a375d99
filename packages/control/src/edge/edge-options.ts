/** Options of the SIP edge node: where SIP listens, how media is anchored, the relay's ports. */
import type { DigestAlgorithm, ListenSpec } from '@switchboard/sip-stack';
import type { Binding } from '@switchboard/registrar';

/** When proxied calls get their media anchored on the relay. */
export type MediaMode = 'always' | 'nat' | 'never';
export const MEDIA_MODES: readonly MediaMode[] = Object.freeze(['always', 'nat', 'never'] as const);

/** How outbound calls reach trunks: the B2BUA (default) or the proxy (dispatcher-style). */
export type OutboundMode = 'b2bua' | 'proxy';
export const OUTBOUND_MODES: readonly OutboundMode[] = Object.freeze(['b2bua', 'proxy'] as const);

/** pino-compatible subset. */
export interface EdgeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: object): EdgeLogger;
}

export interface EdgeMediaOptions {
  mode: MediaMode;
  /** Address the relay binds (a real address, not a wildcard, for the kernel path). */
  address: string;
  /** Address written into SDP (default `address`). */
  advertised?: string;
  ports: { min: number; max: number };
  /** The eBPF fast path (default on; the relay falls back to userspace when not allowed). */
  kernel?: boolean;
  /** No-media timeout of a relay session, ms (default the relay's 60 s). */
  timeoutMs?: number;
}

export interface EdgeOptions {
  listen: readonly ListenSpec[];
  media: EdgeMediaOptions;
  /**
   * Call-IDs of the calls, registrations and probes this node starts itself (B2BUA legs, trunk
   * registrations, OPTIONS probes); default random. A cluster worker encodes its index in them so
   * the replies reach it (call-id-owner.ts).
   */
  callId?: () => string;
  /** Host for Record-Route when listening on a wildcard address. */
  advertisedHost?: string;
  /** Offered digest algorithms, in order of preference (default MD5, SHA-256). */
  algorithms?: readonly DigestAlgorithm[];
  /** Digest nonce lifetime before a correct answer gets stale=true (default 300 s). */
  nonceTtlMs?: number;
  /** Outbound calls to trunks: through the B2BUA when it can run (default), else proxied. */
  outbound?: OutboundMode;
  /** Honour REFER sent by trunks on B2BUA calls (default false: refused with 403). */
  transfersFromTrunks?: boolean;
  /**
   * OPTIONS probes of trunk gateways, every this many ms (default 30 000); 0 sends none (a
   * gateway live traffic marked down is then tried again after 30 s).
   */
  trunkProbeIntervalMs?: number;
  /**
   * OPTIONS qualify of registered contacts every this many ms (default 0: none); a contact that
   * stops answering is reported unreachable to the control plane, and reachable when it answers.
   */
  qualifyIntervalMs?: number;
  /** CRLFCRLF pings on registered RFC 5626 TCP/TLS flows every this many ms (default 0: none). */
  keepAliveIntervalMs?: number;
  /** Which bindings this node qualifies and pings (default all; a cluster splits them). */
  reachabilityFilter?: (binding: Binding) => boolean;
  /**
   * Whether a From domain is one of ours: requests from it must authenticate (407). Default: the
   * From domain equals the Request-URI domain, or a device of it has registered here.
   */
  isLocalDomain?: (host: string) => boolean;
  /** Relay requests whose domain is not one of ours (default false: they are refused). */
  relayForeignDomains?: boolean;
  /** Retry-After (seconds) of the 503 that refuses new dialogs while draining (default 30). */
  drainRetryAfterSec?: number;
  logger?: EdgeLogger;
}

export const silentLogger: EdgeLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
