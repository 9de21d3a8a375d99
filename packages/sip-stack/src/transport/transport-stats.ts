import type { TransportProtocol } from './transport.js';

export type ProtocolCounters = Record<TransportProtocol, number>;

export interface ConnectionStats {
  /** Stream connections currently open (inbound and outbound). */
  open: number;
  /** Inbound connections accepted. */
  accepted: number;
  /** Outbound connections established. */
  connected: number;
  /** Inbound connections or upgrades refused (limits, wrong WebSocket subprotocol, bad upgrade). */
  refused: number;
  /** Connections closed for idleness. */
  reaped: number;
  /** Outbound connection attempts that failed. */
  connectFailures: number;
}

/** Counters of the transport layer; a snapshot, safe to keep. */
export interface TransportStats {
  received: ProtocolCounters;
  sent: ProtocolCounters;
  /** Messages that failed to parse (any transport). */
  parseErrors: number;
  /** Responses the transport generated itself for bad input (400, 505, 513...). */
  errorResponsesSent: number;
  /** Messages discarded without an answer. */
  dropped: number;
  /** Stream framing errors (no valid Content-Length, header block over the limit); the connection is closed. */
  badFraming: number;
  /** Messages over the size limit. */
  tooLarge: number;
  /** RFC 5626 §3.5.1 double-CRLF pings answered. */
  keepAlivesAnswered: number;
  /** Requests moved from UDP to TCP by the §18.1.1 MTU rule. */
  mtuSwitches: number;
  /** Socket, TLS and WebSocket errors (peer resets, handshake failures, garbage frames). */
  socketErrors: number;
  /** Local sends that failed. */
  sendErrors: number;
  /** Exceptions thrown by the message handler (caught here). */
  handlerErrors: number;
  connections: ConnectionStats;
}

function zeroProtocols(): ProtocolCounters {
  return { udp: 0, tcp: 0, tls: 0, ws: 0, wss: 0 };
}

export function createTransportStats(): TransportStats {
  return {
    received: zeroProtocols(),
    sent: zeroProtocols(),
    parseErrors: 0,
    errorResponsesSent: 0,
    dropped: 0,
    badFraming: 0,
    tooLarge: 0,
    keepAlivesAnswered: 0,
    mtuSwitches: 0,
    socketErrors: 0,
    sendErrors: 0,
    handlerErrors: 0,
    connections: { open: 0, accepted: 0, connected: 0, refused: 0, reaped: 0, connectFailures: 0 },
  };
}

export function snapshotTransportStats(s: TransportStats): TransportStats {
  return {
    ...s,
    received: { ...s.received },
    sent: { ...s.sent },
    connections: { ...s.connections },
  };
}
