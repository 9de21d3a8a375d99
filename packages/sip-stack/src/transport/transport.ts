/**
 * The boundary of the transport layer: what the transaction layer (and embedders) see.
 * Addresses are plain IP strings; IPv6 without brackets.
 */
import type { SipMessage } from '../message/sip-message.js';

export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export const TransportProtocol = {
  Udp: 'udp',
  Tcp: 'tcp',
  Tls: 'tls',
  Ws: 'ws',
  Wss: 'wss',
} as const satisfies Record<string, TransportProtocol>;

export const TRANSPORT_PROTOCOLS: readonly TransportProtocol[] = Object.freeze([
  'udp',
  'tcp',
  'tls',
  'ws',
  'wss',
]);

export interface Endpoint {
  /** IP address, IPv6 without brackets. */
  address: string;
  port: number;
}

/** Where a message came from, or how it left; enough to reach the peer back. */
export interface Flow {
  protocol: TransportProtocol;
  local: Endpoint;
  remote: Endpoint;
  /**
   * Identity of the flow. Streams: one per connection ("tcp:10.0.0.1:5060->10.0.0.2:40312#17").
   * UDP: the (listening socket, remote) pair ("udp:10.0.0.1:5060->10.0.0.2:5060"); pinning a UDP
   * send to it selects the listening socket (RFC 5626 flow over UDP).
   */
  flowId?: string;
}

export interface Target extends Endpoint {
  protocol: TransportProtocol;
  /** Send over this flow only; a closed pinned flow fails the send with SIP_ERR_FLOW_CLOSED. */
  flowId?: string;
  /** TLS SNI server name for outbound TLS/WSS connections. */
  serverName?: string;
}

export interface IncomingMessage {
  message: SipMessage;
  flow: Flow;
  /** Clock time (injected clock) at delivery. */
  receivedAt: number;
}

/** Certificate and key files, PEM. */
export interface TlsCertificateFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsListenOptions extends TlsCertificateFiles {
  /** Extra certificates chosen by the TLS client's server name (SNI); wildcards like "*.example.com" allowed. */
  sni?: Readonly<Record<string, TlsCertificateFiles>>;
  /** CA bundle (PEM file) used to verify client certificates when `requestCert` is set. */
  caFile?: string;
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
}

export interface ListenSpec {
  protocol: TransportProtocol;
  /** IP to bind ("0.0.0.0", "::", "127.0.0.1", "::1"). */
  address: string;
  /** 0 = ephemeral. */
  port: number;
  /** Required for 'tls' and 'wss'. */
  tls?: TlsListenOptions;
  /** Host and port written into Via sent-by (and usable for Record-Route) instead of the bound address. */
  advertised?: { host: string; port?: number };
  /** WebSocket only: accepted request path (default: any). */
  wsPath?: string;
  /**
   * Default true. False lets the socket be shared with the other workers of a `node:cluster`
   * (UDP: every worker reads the primary's socket; TCP: the primary hands out connections).
   */
  exclusive?: boolean;
}

export interface ListeningPoint {
  protocol: TransportProtocol;
  local: Endpoint;
  advertised?: { host: string; port?: number };
}

/** Pino-compatible logger, the subset this layer uses. */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the transaction layer needs to send. */
export interface TransportSender {
  send(message: SipMessage, target: Target): Promise<Flow>;
}

/**
 * Takes the outcome of sends instead of a promise: one object (a transaction's wire message, a
 * proxy's stateless forwarder) takes the outcome of all its sends, so a send allocates neither a
 * promise nor a closure. Called exactly once per send, never before `send` returned.
 */
export interface SendReport {
  /** The message left over `flow`; `bytes` are what went out, when the sender tells. */
  sent(flow: Flow, bytes?: Buffer): void;
  failed(error: unknown): void;
  /**
   * The bytes about to go out over `flow`, told synchronously within `send` before `sent` or
   * `failed` (UDP responses): a transaction can store them at once (see CompletedResponses).
   */
  encoded?(bytes: Buffer, flow: Flow): void;
}

/**
 * A sender that may report to a `SendReport` (and then return undefined) instead of returning a
 * promise. TransportLayer reports; a sender that ignores `report` returns its promise, and
 * `sendReported` turns that into the same report.
 */
export interface ReportingSender {
  send(message: SipMessage, target: Target, report?: SendReport): Promise<Flow> | undefined;
}

/** Sends through `sender` with the outcome going to `report`, whichever way the sender answers. */
export function sendReported(
  sender: ReportingSender,
  message: SipMessage,
  target: Target,
  report: SendReport,
): void {
  settleReport(sender.send(message, target, report), report);
}

/** A promise a sender returned instead of reporting, forwarded to `report`. */
export function settleReport(pending: Promise<Flow> | undefined, report: SendReport): void {
  if (pending === undefined) return;
  pending.then(
    (flow) => report.sent(flow),
    (err: unknown) => report.failed(err),
  );
}

export type MessageHandler = (incoming: IncomingMessage) => void;
export type FlowClosedHandler = (flow: Flow, reason: FlowCloseReason) => void;

/** Why a stream flow ended. */
export type FlowCloseReason = 'remote' | 'idle' | 'error' | 'bad-framing' | 'too-large' | 'local';

export const DEFAULT_PORTS: Readonly<Record<TransportProtocol, number>> = Object.freeze({
  udp: 5060,
  tcp: 5060,
  tls: 5061,
  ws: 80,
  wss: 443,
});

export function isStreamProtocol(p: TransportProtocol): boolean {
  return p !== 'udp';
}

/** Via transport token (RFC 3261 §18, RFC 7118 §5). */
export function viaTransportToken(p: TransportProtocol): string {
  return p.toUpperCase();
}

export function protocolFromViaTransport(token: string): TransportProtocol | undefined {
  const p = token.toLowerCase();
  return (TRANSPORT_PROTOCOLS as readonly string[]).includes(p)
    ? (p as TransportProtocol)
    : undefined;
}
