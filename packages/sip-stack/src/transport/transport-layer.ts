/**
 * The SIP transport layer (RFC 3261 §18, RFC 3581, RFC 5626 flows, RFC 7118 WebSocket): listening
 * points for UDP, TCP, TLS, WS and WSS, stream connections with reuse, limits and idle reaping,
 * and sending with the §18.1.1 MTU rule. Nothing a peer sends throws out of this class.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { SipMessage } from '../message/sip-message.js';
import { systemClock } from '../util/clock.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { ConnectionTable } from './connection-table.js';
import { SocketConnection, endpointsOf, makeFlowId } from './connection.js';
import type { Connection, ConnectionContext, ConnectionHandler } from './connection.js';
import { InboundProcessor } from './inbound-processor.js';
import { normaliseAddress } from './ip-address.js';
import { StreamListener } from './stream-listener.js';
import { connectStream, loadTlsClient } from './stream-connector.js';
import type { LoadedTlsClient, TlsClientOptions } from './stream-connector.js';
import { TransportError } from './transport-error.js';
import { createTransportStats, snapshotTransportStats } from './transport-stats.js';
import type { TransportStats } from './transport-stats.js';
import type {
  Endpoint,
  Flow,
  FlowClosedHandler,
  FlowCloseReason,
  ListeningPoint,
  ListenSpec,
  MessageHandler,
  Target,
  TransportLogger,
  TransportSender,
} from './transport.js';
import { UdpListener, isKeepAliveDatagram } from './udp-listener.js';
import { WsConnection } from './ws-connection.js';
import { WsListener } from './ws-listener.js';
import { OutboundRouter } from './outbound-router.js';
import { isStunMessage, stunBindingResponse } from './stun-keepalive.js';
import { SILENT_LOGGER, resolveTransportOptions } from './transport-layer-options.js';
import { isDatagramProtocol, parseFlowId } from './remote-flows.js';
import type { InboundDispatch, RemoteFlows } from './remote-flows.js';
import type { ResolvedTransportOptions, TransportLayerOptions } from './transport-layer-options.js';

export class TransportLayer implements TransportSender {
  readonly #clock: Clock;
  readonly #logger: TransportLogger;
  readonly #opts: ResolvedTransportOptions;
  readonly #stats: TransportStats = createTransportStats();
  readonly #table = new ConnectionTable();
  readonly #inbound: InboundProcessor;
  readonly #router: OutboundRouter;
  readonly #udp: UdpListener[] = [];
  readonly #listeners: (StreamListener | WsListener)[] = [];
  readonly #points: ListeningPoint[] = [];
  /** Frozen copy handed out by `listeningPoints()`; replaced (never changed) when a point is added. */
  #pointsView: readonly ListeningPoint[] = Object.freeze([]);
  readonly #flowClosed = new Set<FlowClosedHandler>();
  readonly #connCtx: ConnectionContext;
  readonly #tlsClientOptions: TlsClientOptions | undefined;
  #dispatch: InboundDispatch | undefined;
  #remote: RemoteFlows | undefined;
  #tlsClient: Promise<LoadedTlsClient> | undefined;
  #reapTimer: TimerHandle | undefined;
  #closed = false;

  constructor(options: TransportLayerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.#opts = resolveTransportOptions(options);
    const maxMessageSize = this.#opts.maxMessageSize;
    this.#inbound = new InboundProcessor({
      clock: this.#clock,
      stats: this.#stats,
      logger: this.#logger,
      maxMessageSize,
    });
    this.#connCtx = {
      clock: this.#clock,
      handler: this.#connectionHandler(),
      maxMessageSize,
      maxWriteBuffer: this.#opts.maxWriteBuffer,
      closeGraceMs: 2000,
      ...(options.flowIdSuffix === undefined ? {} : { flowIdSuffix: options.flowIdSuffix }),
    };
    this.#dispatch = options.dispatch;
    this.#remote = options.remoteFlows;
    this.#tlsClientOptions = options.tlsClient;
    this.#router = new OutboundRouter({
      stats: this.#stats,
      logger: this.#logger,
      mtu: this.#opts.mtu,
      points: this.#points,
      table: this.#table,
      udp: this.#udp,
      connect: (target) => this.#connect(target),
      countSent: (p) => this.#stats.sent[p]++,
    });
  }

  /** Opens a listening point. Configuration problems reject with a TransportError. */
  async listen(spec: ListenSpec): Promise<ListeningPoint> {
    if (this.#closed) throw new TransportError('SIP_ERR_CLOSED', 'transport layer is closed');
    let point: ListeningPoint;
    if (spec.protocol === 'udp') {
      const l = await UdpListener.listen(spec, {
        onDatagram: (listener, bytes, remote) => this.#onDatagram(listener, bytes, remote),
        onListenerError: (p, err) => this.#onListenerError(p, err),
      });
      this.#udp.push(l);
      point = l.point;
    } else if (spec.protocol === 'tcp' || spec.protocol === 'tls') {
      const l = await StreamListener.listen(
        spec,
        {
          admit: (_p, socket) => this.#admit(socket.remoteAddress ?? ''),
          onAccept: (_p, socket) =>
            this.#accept(
              new SocketConnection(socket, spec.protocol as 'tcp' | 'tls', false, this.#connCtx),
              socket,
            ),
          onListenerError: (p, err) => this.#onListenerError(p, err),
        },
        { tlsHandshakeTimeoutMs: this.#opts.tlsHandshakeTimeoutMs },
      );
      this.#listeners.push(l);
      point = l.point;
    } else {
      const l = await WsListener.listen(
        spec,
        {
          admit: (_p, socket) => this.#admit(socket.remoteAddress ?? ''),
          onWsAccept: (p, ws, socket) => this.#acceptWs(p, ws, socket),
          onRefused: (p, why, socket) => {
            this.#stats.connections.refused++;
            this.#logger.info(
              { listen: p.local, remote: socket.remoteAddress, why },
              'WebSocket upgrade refused',
            );
          },
          onListenerError: (p, err) => this.#onListenerError(p, err),
        },
        {
          tlsHandshakeTimeoutMs: this.#opts.tlsHandshakeTimeoutMs,
          maxPayload: this.#opts.maxMessageSize * 2,
        },
      );
      this.#listeners.push(l);
      point = l.point;
    }
    this.#points.push(point);
    this.#pointsView = Object.freeze(this.#points.slice());
    return point;
  }

  /**
   * Sets the multi-process hooks (see `TransportLayerOptions.dispatch`, `remoteFlows`,
   * `flowIdSuffix`) on a layer built by someone else. Call before `listen`.
   */
  useCluster(
    hooks: Pick<TransportLayerOptions, 'dispatch' | 'remoteFlows' | 'flowIdSuffix'>,
  ): void {
    this.#dispatch = hooks.dispatch;
    this.#remote = hooks.remoteFlows;
    if (hooks.flowIdSuffix === undefined) delete this.#connCtx.flowIdSuffix;
    else this.#connCtx.flowIdSuffix = hooks.flowIdSuffix;
  }

  /** The listening points; the same frozen array until another point is added. */
  listeningPoints(): readonly ListeningPoint[] {
    return this.#pointsView;
  }

  /** The single consumer of incoming messages (the transaction layer). */
  onMessage(handler: MessageHandler): void {
    this.#inbound.setHandler(handler);
  }

  /** Called when a stream flow ends (RFC 5626: the registrar drops bindings on it). Returns an unsubscribe. */
  onFlowClosed(handler: FlowClosedHandler): () => void {
    this.#flowClosed.add(handler);
    return () => this.#flowClosed.delete(handler);
  }

  /** The open stream flow with this id, if any. */
  flow(flowId: string): Flow | undefined {
    return this.#table.get(flowId)?.flow;
  }

  /** Closes a stream flow (pending writes are flushed). */
  closeFlow(flowId: string): boolean {
    const c = this.#table.get(flowId);
    if (c === undefined) return false;
    c.close('local');
    return true;
  }

  /**
   * Serialises and sends. Requests: a placeholder top Via gets sent-by and transport filled; the
   * §18.1.1 MTU rule may move a UDP request to TCP. Responses over streams reuse the request's
   * flow, else connect per §18.2.2. Rejects with a TransportError on local failure.
   */
  async send(message: SipMessage, target: Target): Promise<Flow> {
    if (this.#closed) throw new TransportError('SIP_ERR_CLOSED', 'transport layer is closed');
    try {
      if (this.#isRemoteFlow(target)) {
        this.#router.fillRemoteVia(message, target.protocol);
        return await this.#writeRemote(message.toBuffer(), target);
      }
      return await this.#router.send(message, target);
    } catch (err) {
      this.#stats.sendErrors++;
      this.#logger.debug({ err, target }, 'send failed');
      throw err instanceof TransportError
        ? err
        : new TransportError('SIP_ERR_SEND', String(err), { cause: err });
    }
  }

  /**
   * Sends bytes that were serialised before (transaction retransmissions) to the target's flow,
   * without serialising again. Never connects anew.
   */
  async sendBuffer(bytes: Buffer, target: Target): Promise<Flow> {
    if (this.#closed) throw new TransportError('SIP_ERR_CLOSED', 'transport layer is closed');
    try {
      if (this.#isRemoteFlow(target)) return await this.#writeRemote(bytes, target);
      return await this.#router.sendBuffer(bytes, target);
    } catch (err) {
      this.#stats.sendErrors++;
      throw err instanceof TransportError
        ? err
        : new TransportError('SIP_ERR_SEND', String(err), { cause: err });
    }
  }

  /**
   * Processes bytes another process received and dispatched here (see `dispatch`) as if they had
   * arrived on `flow`: parse, stamp, deliver. Replies to bad requests leave over the same UDP
   * socket, or over the stream flow wherever it is held. Never throws.
   */
  injectReceived(bytes: Buffer, flow: Flow): void {
    if (this.#closed) return;
    const reply = (out: Buffer): Promise<void> =>
      this.sendBuffer(out, {
        ...flow.remote,
        protocol: flow.protocol,
        ...(flow.flowId === undefined ? {} : { flowId: flow.flowId }),
      }).then(() => undefined);
    this.#inbound.process(bytes, flow, reply, isDatagramProtocol(flow.protocol));
  }

  /** Writes bytes on a stream flow held here (a send another process forwarded). */
  async writeFlow(flowId: string, bytes: Buffer): Promise<void> {
    const conn = this.#table.get(flowId);
    if (conn === undefined || conn.closed)
      throw new TransportError('SIP_ERR_FLOW_CLOSED', `flow ${flowId} is closed`);
    await conn.write(bytes);
    this.#stats.sent[conn.protocol]++;
  }

  stats(): TransportStats {
    this.#stats.connections.open = this.#table.size;
    return snapshotTransportStats(this.#stats);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#reapTimer);
    this.#reapTimer = undefined;
    const closing = [...this.#udp.map((l) => l.close()), ...this.#listeners.map((l) => l.close())];
    for (const c of [...this.#table.values()]) c.destroy();
    await Promise.all(closing);
  }

  // --- inbound ---------------------------------------------------------------------------------

  #onDatagram(listener: UdpListener, bytes: Buffer, remote: Endpoint): void {
    if (isStunMessage(bytes)) {
      // RFC 5626 §4.4.2: STUN keep-alive on the SIP port; answer Binding requests, ignore the rest.
      const answer = stunBindingResponse(bytes, remote);
      if (answer !== undefined) {
        this.#stats.keepAlivesAnswered++;
        listener
          .send(answer, remote)
          .catch((err: unknown) => this.#onListenerError(listener.point, err));
      }
      return;
    }
    if (isKeepAliveDatagram(bytes)) return; // CRLF keep-alives on UDP carry no message
    const local = listener.point.local;
    const flow: Flow = { protocol: 'udp', local, remote, flowId: makeFlowId('udp', local, remote) };
    if (this.#dispatch !== undefined && this.#dispatched(bytes, flow)) return;
    this.#inbound.process(
      bytes,
      flow,
      (out) => listener.send(out, remote).then(() => void this.#stats.sent.udp++),
      true,
    );
  }

  #connectionHandler(): ConnectionHandler {
    return {
      onMessage: (conn, bytes) => {
        if (this.#dispatch !== undefined && this.#dispatched(bytes, conn.flow)) return;
        const ws = conn.protocol === 'ws' || conn.protocol === 'wss';
        this.#inbound.process(bytes, conn.flow, (out) => this.#reply(conn, out), ws);
      },
      onPing: () => void this.#stats.keepAlivesAnswered++,
      onFramingError: (conn, kind, reason, head) => {
        this.#logger.info({ flowId: conn.flowId, kind, reason }, 'closing stream: cannot frame');
        if (kind === 'bad-framing' || head === undefined) {
          // RFC 3261 §18.3: without a valid Content-Length the stream cannot be resynchronised.
          if (kind === 'bad-framing') this.#stats.badFraming++;
          else this.#stats.tooLarge++;
          conn.close('bad-framing');
          return;
        }
        void this.#inbound
          .answerTooLarge(head, conn.flow, (out) => this.#reply(conn, out))
          .finally(() => conn.close('too-large'));
      },
      onSocketError: (conn, err) => {
        const code = (err as { code?: unknown }).code;
        if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#stats.tooLarge++;
        else this.#stats.socketErrors++;
        this.#logger.debug({ err, flowId: conn.flowId }, 'stream socket error');
      },
      onClose: (conn, reason) => this.#onConnectionClosed(conn, reason),
    };
  }

  /** True when the dispatch hook handed the bytes to another process; a throwing hook keeps them here. */
  #dispatched(bytes: Buffer, flow: Flow): boolean {
    try {
      return this.#dispatch?.(bytes, flow) === 'handled';
    } catch (err) {
      this.#stats.handlerErrors++;
      this.#logger.error({ err, flowId: flow.flowId }, 'dispatch hook threw');
      return false;
    }
  }

  #isRemoteFlow(target: Target): boolean {
    const id = target.flowId;
    return (
      this.#remote !== undefined &&
      id !== undefined &&
      target.protocol !== 'udp' &&
      this.#table.get(id) === undefined &&
      this.#remote.isRemote(id)
    );
  }

  async #writeRemote(bytes: Buffer, target: Target): Promise<Flow> {
    const flowId = target.flowId ?? '';
    await (this.#remote as RemoteFlows).write(flowId, bytes);
    return (
      parseFlowId(flowId) ?? {
        protocol: target.protocol,
        local: { address: '', port: 0 },
        remote: { address: target.address, port: target.port },
        flowId,
      }
    );
  }

  #reply(conn: Connection, bytes: Buffer): Promise<void> {
    return conn.write(bytes).then(() => void this.#stats.sent[conn.protocol]++);
  }

  #onListenerError(point: ListeningPoint, err: unknown): void {
    this.#stats.socketErrors++;
    this.#logger.debug(
      { err, protocol: point.protocol, local: point.local },
      'listener or handshake error',
    );
  }

  // --- connections -----------------------------------------------------------------------------

  #admit(remoteAddress: string): boolean {
    const address = normaliseAddress(remoteAddress);
    const ok =
      !this.#closed &&
      this.#table.size < this.#opts.maxConnections &&
      this.#table.countForAddress(address) < this.#opts.maxPerPeer;
    if (!ok) {
      this.#stats.connections.refused++;
      this.#logger.info(
        { remote: address, open: this.#table.size },
        'stream connection refused: limit',
      );
    }
    return ok;
  }

  #accept(conn: Connection, socket: Socket): void {
    if (socket.destroyed || this.#closed) {
      conn.destroy();
      return;
    }
    this.#stats.connections.accepted++;
    this.#register(conn);
  }

  #acceptWs(point: ListeningPoint, ws: WebSocket, socket: Socket): void {
    const { local, remote } = endpointsOf(socket);
    const conn = new WsConnection(
      ws,
      point.protocol as 'ws' | 'wss',
      local,
      remote,
      false,
      this.#connCtx,
    );
    this.#accept(conn, socket);
  }

  #register(conn: Connection): void {
    this.#table.add(conn);
    this.#stats.connections.open = this.#table.size;
    this.#scheduleReap();
  }

  #onConnectionClosed(conn: Connection, reason: FlowCloseReason): void {
    if (!this.#table.remove(conn)) return;
    this.#stats.connections.open = this.#table.size;
    if (reason === 'idle') this.#stats.connections.reaped++;
    this.#logger.debug({ flowId: conn.flowId, reason }, 'flow closed');
    for (const h of this.#flowClosed) {
      try {
        h(conn.flow, reason);
      } catch (err) {
        this.#stats.handlerErrors++;
        this.#logger.error({ err, flowId: conn.flowId }, 'flow-closed handler threw');
      }
    }
  }

  async #connect(target: Target): Promise<Connection> {
    if (
      this.#table.size >= this.#opts.maxConnections ||
      this.#table.countForAddress(target.address) >= this.#opts.maxPerPeer
    ) {
      throw new TransportError(
        'SIP_ERR_CONNECTION_LIMIT',
        `connection limit reached for ${target.address}`,
      );
    }
    try {
      const conn = await connectStream(target, this.#connCtx, {
        clock: this.#clock,
        connectTimeoutMs: this.#opts.connectTimeoutMs,
        maxPayload: this.#opts.maxMessageSize * 2,
        tls: () => (this.#tlsClient ??= loadTlsClient(this.#tlsClientOptions)),
      });
      if (this.#closed) {
        conn.destroy();
        throw new TransportError('SIP_ERR_CLOSED', 'transport layer is closed');
      }
      this.#stats.connections.connected++;
      this.#register(conn);
      return conn;
    } catch (err) {
      this.#stats.connections.connectFailures++;
      throw err;
    }
  }

  /** One sweep timer while stream connections exist; closes those idle past the timeout. */
  #scheduleReap(): void {
    const idle = this.#opts.idleMs;
    if (idle <= 0 || this.#reapTimer !== undefined || this.#table.size === 0 || this.#closed)
      return;
    const interval = Math.max(1, Math.ceil(idle / 4));
    this.#reapTimer = this.#clock.setTimeout(() => {
      this.#reapTimer = undefined;
      for (const c of this.#table.idle(this.#clock.now(), idle)) c.close('idle');
      this.#scheduleReap();
    }, interval);
  }
}
