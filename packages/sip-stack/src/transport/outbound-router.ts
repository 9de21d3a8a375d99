/**
 * Chooses how a message leaves: listening socket or stream connection (reused, or opened), fills
 * the top Via of requests, and applies the RFC 3261 §18.1.1 MTU rule.
 */
import { networkInterfaces } from 'node:os';
import type { SipMessage, SipRequest } from '../message/sip-message.js';
import type { ConnectionTable } from './connection-table.js';
import { makeFlowId } from './connection.js';
import type { Connection } from './connection.js';
import { ipFamily, isWildcard } from './ip-address.js';
import { TransportError } from './transport-error.js';
import type { TransportStats } from './transport-stats.js';
import type {
  Endpoint,
  Flow,
  ListeningPoint,
  SendReport,
  Target,
  TransportLogger,
  TransportProtocol,
} from './transport.js';
import type { UdpListener } from './udp-listener.js';
import { fillSentBy, isPlaceholderVia, setViaTransport, viaDestination } from './via-stamping.js';
import type { SentBy } from './via-stamping.js';

export interface OutboundContext {
  stats: TransportStats;
  logger: TransportLogger;
  mtu: number;
  /** Live lists owned by the layer. */
  points: readonly ListeningPoint[];
  udp: readonly UdpListener[];
  table: ConnectionTable;
  connect(target: Target): Promise<Connection>;
  countSent(protocol: TransportProtocol): void;
  /** Counts and logs a failed send and reports it (as a TransportError); never before returning. */
  fail(report: SendReport, err: unknown): void;
}

/** A message that left: where, and as which bytes. */
interface Sent {
  flow: Flow;
  bytes: Buffer;
}

function familyOf(address: string): 4 | 6 {
  return ipFamily(address) === 6 ? 6 : 4;
}

/** First non-internal interface address of a family (for wildcard-bound listeners). */
function primaryAddress(family: 4 | 6): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? [])
      if (!a.internal && (a.family === 'IPv4' ? 4 : 6) === family) return a.address;
  }
  return family === 6 ? '::1' : '127.0.0.1';
}

function flowClosed(target: Target): TransportError {
  return new TransportError('SIP_ERR_FLOW_CLOSED', `flow ${target.flowId ?? ''} is closed`);
}

function noListeningPoint(target: Target): TransportError {
  return new TransportError(
    'SIP_ERR_NO_LISTENING_POINT',
    `no UDP listening point for ${target.address}`,
  );
}

/** The flow of a datagram from the listener's socket to the target. */
function udpFlow(listener: UdpListener, target: Target): Flow {
  return listener.flows.get(target.address, target.port);
}

export class OutboundRouter {
  readonly #ctx: OutboundContext;
  readonly #pending = new Map<string, Promise<Connection>>();
  /** sent-by per protocol and local endpoint; valid while the listening points stay the same. */
  readonly #sentByCache = new Map<string, SentBy>();
  #sentByPoints = -1;

  constructor(ctx: OutboundContext) {
    this.#ctx = ctx;
  }

  /** Sends `message`; the outcome goes to `report` (see SendReport), never before returning. */
  post(message: SipMessage, target: Target, report: SendReport): void {
    if (target.protocol === 'udp') this.#postUdp(message, target, report);
    else this.#settle(this.#sendStream(message, target), report);
  }

  #postUdp(message: SipMessage, target: Target, report: SendReport): void {
    const pinned = target.flowId !== undefined;
    let listener = pinned ? this.#pinnedUdp(target) : undefined;
    // RFC 5626 §5.3: a request pinned to a flow that no longer exists must not go elsewhere.
    if (pinned && listener === undefined && message.kind === 'request')
      return this.#ctx.fail(report, flowClosed(target));
    listener ??= this.#pickUdp(target.address);
    if (listener === undefined) return this.#ctx.fail(report, noListeningPoint(target));
    const local = listener.point.local;
    if (message.kind === 'request') {
      const udpSentBy = this.#sentBy('udp', local);
      const filled = fillSentBy(message, 'udp', udpSentBy);
      const bytes = message.toBuffer();
      // RFC 3261 §18.1.1: a request over the MTU goes over a congestion-controlled transport.
      if (!pinned && bytes.length > this.#ctx.mtu) {
        const udp = listener;
        this.#sendOverTcpForSize(message, target, filled, udpSentBy).then(
          (sent) => {
            if (sent !== undefined) report.sent(sent.flow, sent.bytes);
            else udp.post(message.toBuffer(), udpFlow(udp, target), report);
          },
          (err: unknown) => this.#ctx.fail(report, err),
        );
        return;
      }
      listener.post(bytes, udpFlow(listener, target), report);
      return;
    }
    const bytes = message.toBuffer();
    const flow = udpFlow(listener, target);
    report.encoded?.(bytes, flow);
    listener.post(bytes, flow, report);
  }

  /**
   * Sends bytes serialised earlier (a retransmission) to where they went before: over the same
   * UDP socket, or over the pinned stream flow. Never opens a connection: a retransmission whose
   * stream is gone has nowhere to go (the transaction sees a transport error).
   */
  postBuffer(bytes: Buffer, target: Target, report: SendReport): void {
    if (target.protocol === 'udp') {
      const listener =
        (target.flowId === undefined ? undefined : this.#pinnedUdp(target)) ??
        this.#pickUdp(target.address);
      if (listener === undefined) return this.#ctx.fail(report, flowClosed(target));
      listener.post(bytes, udpFlow(listener, target), report);
      return;
    }
    const conn =
      (target.flowId === undefined ? undefined : this.#ctx.table.get(target.flowId)) ??
      this.#ctx.table.find(target.protocol, target.address, target.port);
    if (conn === undefined || conn.closed) return this.#ctx.fail(report, flowClosed(target));
    this.#settle(
      conn.write(bytes).then(() => {
        this.#ctx.countSent(conn.protocol);
        return { flow: conn.flow, bytes };
      }),
      report,
    );
  }

  #settle(pending: Promise<Sent>, report: SendReport): void {
    pending.then(
      (sent) => report.sent(sent.flow, sent.bytes),
      (err: unknown) => this.#ctx.fail(report, err),
    );
  }

  /** The UDP socket a pinned target's flow id names (RFC 5626 flow over UDP). */
  #pinnedUdp(target: Target): UdpListener | undefined {
    return this.#ctx.udp.find((l) => makeFlowId('udp', l.point.local, target) === target.flowId);
  }

  async #sendOverTcpForSize(
    request: SipRequest,
    target: Target,
    filled: boolean,
    udpSentBy: SentBy,
  ): Promise<Sent | undefined> {
    const tcpTarget: Target = { protocol: 'tcp', address: target.address, port: target.port };
    try {
      const conn = await this.#connection(tcpTarget);
      if (filled) fillSentBy(request, 'tcp', this.#sentBy('tcp', conn.local), true);
      else setViaTransport(request, 'tcp');
      const bytes = request.toBuffer();
      await conn.write(bytes);
      this.#ctx.stats.mtuSwitches++;
      this.#ctx.countSent('tcp');
      return { flow: conn.flow, bytes };
    } catch (err) {
      // RFC 3261 §18.1.1: when TCP cannot be used, the element SHOULD retry over UDP.
      this.#ctx.logger.info(
        { err, target: tcpTarget },
        'large request: TCP failed, sending over UDP',
      );
      if (filled) fillSentBy(request, 'udp', udpSentBy, true);
      else setViaTransport(request, 'udp');
      return undefined;
    }
  }

  async #sendStream(message: SipMessage, target: Target): Promise<Sent> {
    const conn = await this.#streamFor(message, target);
    if (message.kind === 'request') {
      const top = message.topVia;
      if (top !== undefined && isPlaceholderVia(top))
        fillSentBy(message, conn.protocol, this.#sentBy(conn.protocol, conn.local));
    }
    const bytes = message.toBuffer();
    await conn.write(bytes);
    this.#ctx.countSent(conn.protocol);
    return { flow: conn.flow, bytes };
  }

  async #streamFor(message: SipMessage, target: Target): Promise<Connection> {
    const { table } = this.#ctx;
    if (target.flowId !== undefined) {
      const pinned = table.get(target.flowId);
      if (pinned !== undefined && !pinned.closed) return pinned;
      // RFC 5626 §5.3: requests never leave over another flow than the one asked for.
      if (message.kind === 'request') throw flowClosed(target);
    }
    const open = table.find(target.protocol, target.address, target.port);
    if (open !== undefined) return open;
    if (message.kind === 'response') {
      // RFC 7118 §5: a WebSocket client cannot be reached by a new connection.
      if (target.protocol === 'ws' || target.protocol === 'wss') throw flowClosed(target);
      // RFC 3261 §18.2.2: the request's connection is gone: connect to received (or host) at the sent-by port.
      const dest = viaDestination(message);
      if (dest !== undefined && dest.protocol === target.protocol) {
        return this.#connection({
          ...dest,
          ...(target.serverName === undefined ? {} : { serverName: target.serverName }),
        });
      }
    }
    return this.#connection(target);
  }

  /** An open connection to the target, or one being opened, or a new one. */
  #connection(target: Target): Promise<Connection> {
    const open = this.#ctx.table.find(target.protocol, target.address, target.port);
    if (open !== undefined) return Promise.resolve(open);
    const key = `${target.protocol}|${target.address}|${target.port}|${target.serverName ?? ''}`;
    let p = this.#pending.get(key);
    if (p === undefined) {
      p = this.#ctx.connect(target).finally(() => this.#pending.delete(key));
      this.#pending.set(key, p);
    }
    return p;
  }

  /** Fills a placeholder top Via of a request leaving over a stream flow held by another process. */
  fillRemoteVia(message: SipMessage, protocol: TransportProtocol): void {
    if (message.kind !== 'request') return;
    const top = message.topVia;
    if (top === undefined || !isPlaceholderVia(top)) return;
    const lp = this.#ctx.points.find((p) => p.protocol === protocol);
    fillSentBy(
      message,
      protocol,
      this.#sentBy(protocol, lp?.local ?? { address: '0.0.0.0', port: 0 }),
    );
  }

  #pickUdp(address: string): UdpListener | undefined {
    const family = familyOf(address);
    const udp = this.#ctx.udp;
    return (
      udp.find((l) => l.family === family) ??
      // a dual-stack "::" socket reaches IPv4 peers too
      (family === 4
        ? udp.find((l) => l.family === 6 && isWildcard(l.point.local.address))
        : undefined)
    );
  }

  /** sent-by for a request leaving over `protocol` from `local` (§18.1.1: the listening point's address). */
  #sentBy(protocol: TransportProtocol, local: Endpoint): SentBy {
    // Listening points are only ever added: their count tells whether the cache is current.
    if (this.#sentByPoints !== this.#ctx.points.length) {
      this.#sentByCache.clear();
      this.#sentByPoints = this.#ctx.points.length;
    }
    const key = `${protocol}|${local.address}|${local.port}`;
    let sentBy = this.#sentByCache.get(key);
    if (sentBy === undefined) {
      sentBy = this.#computeSentBy(protocol, local);
      this.#sentByCache.set(key, sentBy);
    }
    return sentBy;
  }

  #computeSentBy(protocol: TransportProtocol, local: Endpoint): SentBy {
    const family = familyOf(local.address);
    const points = this.#ctx.points.filter((p) => p.protocol === protocol);
    const lp = points.find((p) => familyOf(p.local.address) === family) ?? points[0];
    if (lp?.advertised !== undefined)
      return { host: lp.advertised.host, port: lp.advertised.port ?? lp.local.port };
    if (lp === undefined) return { host: local.address, port: local.port }; // outbound-only transport
    const host = !isWildcard(lp.local.address)
      ? lp.local.address
      : !isWildcard(local.address)
        ? local.address
        : primaryAddress(family);
    return { host, port: lp.local.port };
  }
}
