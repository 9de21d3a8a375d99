/** Options of the transport layer, with their defaults. */
import type { Clock } from '../util/clock.js';
import type { InboundDispatch, RemoteFlows } from './remote-flows.js';
import type { TlsClientOptions } from './stream-connector.js';
import type { TransportLogger } from './transport.js';

export interface TransportLayerOptions {
  clock?: Clock;
  logger?: TransportLogger;
  /** Largest message accepted or sent, bytes. Default 65536. */
  maxMessageSize?: number;
  /** RFC 3261 §18.1.1: UDP requests larger than this go over TCP. Default 1300. */
  mtu?: number;
  /** Stream connections (TCP, TLS, WS, WSS) with no traffic for this long are closed. 0 = never. Default 600000. */
  tcpIdleTimeoutMs?: number;
  /** Open stream connections in total. Default 10000. */
  maxConnections?: number;
  /** Open stream connections per remote IP address. Default 64. */
  maxConnectionsPerPeer?: number;
  /** Outbound connection setup limit (on the injected clock). Default 10000. */
  connectTimeoutMs?: number;
  /** Inbound TLS handshake limit. Default 10000. */
  tlsHandshakeTimeoutMs?: number;
  /** Bytes queued to a peer that does not read before its connection is dropped. Default 1 MiB. */
  maxWriteBufferBytes?: number;
  /** Outbound TLS/WSS settings. */
  tlsClient?: TlsClientOptions;
  /** Multi-process edge: may hand received bytes to another process before parsing. */
  dispatch?: InboundDispatch;
  /** Multi-process edge: stream flows held by other processes; sends pinned to them go there. */
  remoteFlows?: RemoteFlows;
  /** Multi-process edge: appended to the flow id of every stream connection opened here. */
  flowIdSuffix?: string;
  /**
   * SO_RCVBUF of each UDP socket, bytes. Default 4 MiB (the kernel caps it at net.core.rmem_max).
   * The OS default (~208 KiB on Linux) holds about a hundred small datagrams: at thousands of
   * messages a second, a pause of a few tens of milliseconds (a GC, a long callback) overflows
   * it and the kernel drops requests and responses, which peers then retransmit.
   */
  udpReceiveBufferBytes?: number;
}

export interface ResolvedTransportOptions {
  maxMessageSize: number;
  mtu: number;
  idleMs: number;
  maxConnections: number;
  maxPerPeer: number;
  connectTimeoutMs: number;
  tlsHandshakeTimeoutMs: number;
  maxWriteBuffer: number;
  udpReceiveBuffer: number;
}

const NOOP = (): void => undefined;
export const SILENT_LOGGER: TransportLogger = Object.freeze({
  debug: NOOP,
  info: NOOP,
  warn: NOOP,
  error: NOOP,
});

export function resolveTransportOptions(options: TransportLayerOptions): ResolvedTransportOptions {
  return {
    maxMessageSize: options.maxMessageSize ?? 65536,
    mtu: options.mtu ?? 1300,
    idleMs: options.tcpIdleTimeoutMs ?? 600_000,
    maxConnections: options.maxConnections ?? 10_000,
    maxPerPeer: options.maxConnectionsPerPeer ?? 64,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    tlsHandshakeTimeoutMs: options.tlsHandshakeTimeoutMs ?? 10_000,
    maxWriteBuffer: options.maxWriteBufferBytes ?? 1 << 20,
    udpReceiveBuffer: options.udpReceiveBufferBytes ?? 4 << 20,
  };
}
