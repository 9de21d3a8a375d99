/**
 * The SIP transport layer (RFC 3261 §18, RFC 3581, RFC 5626 flows, RFC 7118 WebSocket): listening
 * points for UDP, TCP, TLS, WS and WSS, stream connections (stream-flows.ts), and sending with the
 * §18.1.1 MTU rule (outbound-router.ts). Nothing a peer sends throws out of this class.
 */
import type { SipMessage } from '../message/sip-message.js';
import { systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { InboundProcessor } from './inbound-processor.js';
import { PromiseReport } from './promise-report.js';
import { StreamFlows } from './stream-flows.js';
import { StreamListener } from './stream-listener.js';
import { TransportError } from './transport-error.js';
import { createTransportStats, snapshotTransportStats } from './transport-stats.js';
import type { TransportStats } from './transport-stats.js';
import type {
  Flow,
  FlowClosedHandler,
  ListeningPoint,
  ListenSpec,
  MessageHandler,
  SendReport,
  Target,
  TransportLogger,
  TransportSender,
} from './transport.js';
import { UdpListener, isKeepAliveDatagram } from './udp-listener.js';
import type { UdpListenerHandler } from './udp-listener.js';
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
  readonly #inbound: InboundProcessor;
  readonly #router: OutboundRouter;
  readonly #streams: StreamFlows;
  readonly #udp: UdpListener[] = [];
  readonly #listeners: (StreamListener | WsListener)[] = [];
  readonly #points: ListeningPoint[] = [];
  /** Frozen copy handed out by `listeningPoints()`; replaced (never changed) when a point is added. */
  #pointsView: readonly ListeningPoint[] = Object.freeze([]);
  #dispatch: InboundDispatch | undefined;
  #remote: RemoteFlows | undefined;
  #closed = false;

  /** What the UDP sockets tell: datagrams in, outcomes of sends; bound once for every socket. */
  readonly #udpHandler: UdpListenerHandler = {
    onDatagram: (listener, bytes, flow) => this.#onDatagram(listener, bytes, flow),
    onListenerError: (p, err) => this.#onListenerError(p, err),
    onPosted: (report, flow, bytes) => {
      this.#stats.sent.udp++;
      report.sent(flow, bytes);
    },
    onPostFailed: (report, err) => this.#fail(report, err),
  };

  /** Replies to bad datagrams leave over the socket they came in on. */
  readonly #replyUdp = (bytes: Buffer, flow: Flow): Promise<void> => {
    const local = flow.local;
    const listener = this.#udp.find(
      (l) => l.point.local.port === local.port && l.point.local.address === local.address,
    );
    if (listener === undefined)
      return Promise.reject(new TransportError('SIP_ERR_CLOSED', 'UDP listener is closed'));
    return listener.send(bytes, flow.remote).then(() => void this.#stats.sent.udp++);
  };

  /** Replies to injected bytes leave over the same UDP socket, or the stream flow wherever held. */
  readonly #replyInjected = (out: Buffer, flow: Flow): Promise<void> =>
    this.sendBuffer(out, {
      ...flow.remote,
      protocol: flow.protocol,
      ...(flow.flowId === undefined ? {} : { flowId: flow.flowId }),
    }).then(() => undefined);

  constructor(options: TransportLayerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.#opts = resolveTransportOptions(options);
    this.#inbound = new InboundProcessor({
      clock: this.#clock,
      stats: this.#stats,
      logger: this.#logger,
      maxMessageSize: this.#opts.maxMessageSize,
    });
    this.#streams = new StreamFlows({
      clock: this.#clock,
      logger: this.#logger,
      opts: this.#opts,
      stats: this.#stats,
      inbound: this.#inbound,
      tlsClient: options.tlsClient,
      flowIdSuffix: options.flowIdSuffix,
      dispatched: (bytes, flow) => this.#dispatched(bytes, flow),
      closed: () => this.#closed,
    });
    this.#dispatch = options.dispatch;
    this.#remote = options.remoteFlows;
    this.#router = new OutboundRouter({
      stats: this.#stats,
      logger: this.#logger,
      mtu: this.#opts.mtu,
      points: this.#points,
      table: this.#streams.table,
      udp: this.#udp,
      connect: (target) => this.#streams.connect(target),
      countSent: (p) => this.#stats.sent[p]++,
      fail: (report, err) => this.#fail(report, err),
    });
  }

  /** Opens a listening point. Configuration problems reject with a TransportError. */
  async listen(spec: ListenSpec): Promise<ListeningPoint> {
    if (this.#closed) throw new TransportError('SIP_ERR_CLOSED', 'transport layer is closed');
    let point: ListeningPoint;
    if (spec.protocol === 'udp') {
      const l = await UdpListener.listen(spec, this.#udpHandler, this.#opts.udpReceiveBuffer);
      this.#udp.push(l);
      point = l.point;
    } else if (spec.protocol === 'tcp' || spec.protocol === 'tls') {
      const protocol = spec.protocol;
      const l = await StreamListener.listen(
        spec,
        {
          admit: (_p, socket) => this.#streams.admit(socket.remoteAddress ?? ''),
          onAccept: (_p, socket) => this.#streams.acceptSocket(socket, protocol),
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
          admit: (_p, socket) => this.#streams.admit(socket.remoteAddress ?? ''),
          onWsAccept: (p, ws, socket) => this.#streams.acceptWs(p, ws, socket),
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
    this.#streams.setFlowIdSuffix(hooks.flowIdSuffix);
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
    return this.#streams.onFlowClosed(handler);
  }

  /** The open stream flow with this id, if any. */
  flow(flowId: string): Flow | undefined {
    return this.#streams.table.get(flowId)?.flow;
  }

  /** Closes a stream flow (pending writes are flushed). */
  closeFlow(flowId: string): boolean {
    const c = this.#streams.table.get(flowId);
    if (c === undefined) return false;
    c.close('local');
    return true;
  }

  /**
   * Serialises and sends. Requests: a placeholder top Via gets sent-by and transport filled; the
   * §18.1.1 MTU rule may move a UDP request to TCP. Responses over streams reuse the request's
   * flow, else connect per §18.2.2. Without `report`, resolves with the flow or rejects with a
   * TransportError; with `report`, the outcome goes there instead (see SendReport) and a UDP
   * send allocates no promise and no closure.
   */
  send(message: SipMessage, target: Target): Promise<Flow>;
  send(message: SipMessage, target: Target, report: SendReport): undefined;
  send(message: SipMessage, target: Target, report?: SendReport): Promise<Flow> | undefined {
    if (report !== undefined) {
      this.#post(message, target, report);
      return undefined;
    }
    const p = new PromiseReport();
    this.#post(message, target, p);
    return p.promise;
  }

  /**
   * Sends bytes that were serialised before (transaction retransmissions) to the target's flow,
   * without serialising again. Never connects anew. Reports like `send`.
   */
  sendBuffer(bytes: Buffer, target: Target): Promise<Flow>;
  sendBuffer(bytes: Buffer, target: Target, report: SendReport): undefined;
  sendBuffer(bytes: Buffer, target: Target, report?: SendReport): Promise<Flow> | undefined {
    if (report !== undefined) {
      this.#postBuffer(bytes, target, report);
      return undefined;
    }
    const p = new PromiseReport();
    this.#postBuffer(bytes, target, p);
    return p.promise;
  }

  /**
   * Processes bytes another process received and dispatched here (see `dispatch`) as if they had
   * arrived on `flow`: parse, stamp, deliver. Replies to bad requests leave over the same UDP
   * socket, or over the stream flow wherever it is held. Never throws.
   */
  injectReceived(bytes: Buffer, flow: Flow): void {
    if (this.#closed) return;
    this.#inbound.process(bytes, flow, this.#replyInjected, isDatagramProtocol(flow.protocol));
  }

  /** Writes bytes on a stream flow held here (a send another process forwarded). */
  async writeFlow(flowId: string, bytes: Buffer): Promise<void> {
    const conn = this.#streams.table.get(flowId);
    if (conn === undefined || conn.closed)
      throw new TransportError('SIP_ERR_FLOW_CLOSED', `flow ${flowId} is closed`);
    await conn.write(bytes);
    this.#stats.sent[conn.protocol]++;
  }

  stats(): TransportStats {
    this.#stats.connections.open = this.#streams.table.size;
    return snapshotTransportStats(this.#stats);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = [...this.#udp.map((l) => l.close()), ...this.#listeners.map((l) => l.close())];
    this.#streams.destroyAll();
    await Promise.all(closing);
  }

  // --- sending ---------------------------------------------------------------------------------

  #post(message: SipMessage, target: Target, report: SendReport): void {
    if (this.#closed) return reportClosed(report);
    try {
      if (this.#isRemoteFlow(target)) {
        this.#router.fillRemoteVia(message, target.protocol);
        this.#writeRemote(message.toBuffer(), target, report);
        return;
      }
      this.#router.post(message, target, report);
    } catch (err) {
      this.#fail(report, err);
    }
  }

  #postBuffer(bytes: Buffer, target: Target, report: SendReport): void {
    if (this.#closed) return reportClosed(report);
    try {
      if (this.#isRemoteFlow(target)) return this.#writeRemote(bytes, target, report);
      this.#router.postBuffer(bytes, target, report);
    } catch (err) {
      this.#fail(report, err);
    }
  }

  /** A failed send: counted, logged, reported as a TransportError, never before the send returned. */
  #fail(report: SendReport, err: unknown): void {
    this.#stats.sendErrors++;
    this.#logger.debug({ err }, 'send failed');
    const error =
      err instanceof TransportError
        ? err
        : new TransportError('SIP_ERR_SEND', String(err), { cause: err });
    queueMicrotask(() => report.failed(error));
  }

  #isRemoteFlow(target: Target): boolean {
    const id = target.flowId;
    return (
      this.#remote !== undefined &&
      id !== undefined &&
      target.protocol !== 'udp' &&
      this.#streams.table.get(id) === undefined &&
      this.#remote.isRemote(id)
    );
  }

  #writeRemote(bytes: Buffer, target: Target, report: SendReport): void {
    const flowId = target.flowId ?? '';
    (this.#remote as RemoteFlows).write(flowId, bytes).then(
      () => {
        const flow = parseFlowId(flowId) ?? {
          protocol: target.protocol,
          local: { address: '', port: 0 },
          remote: { address: target.address, port: target.port },
          flowId,
        };
        report.sent(flow, bytes);
      },
      (err: unknown) => this.#fail(report, err),
    );
  }

  // --- inbound ---------------------------------------------------------------------------------

  #onDatagram(listener: UdpListener, bytes: Buffer, flow: Flow): void {
    if (isStunMessage(bytes)) {
      // RFC 5626 §4.4.2: STUN keep-alive on the SIP port; answer Binding requests, ignore the rest.
      const answer = stunBindingResponse(bytes, flow.remote);
      if (answer !== undefined) {
        this.#stats.keepAlivesAnswered++;
        listener
          .send(answer, flow.remote)
          .catch((err: unknown) => this.#onListenerError(listener.point, err));
      }
      return;
    }
    if (isKeepAliveDatagram(bytes)) return; // CRLF keep-alives on UDP carry no message
    if (this.#dispatched(bytes, flow)) return;
    this.#inbound.process(bytes, flow, this.#replyUdp, true);
  }

  /** True when the dispatch hook handed the bytes to another process; a throwing hook keeps them here. */
  #dispatched(bytes: Buffer, flow: Flow): boolean {
    if (this.#dispatch === undefined) return false;
    try {
      return this.#dispatch(bytes, flow) === 'handled';
    } catch (err) {
      this.#stats.handlerErrors++;
      this.#logger.error({ err, flowId: flow.flowId }, 'dispatch hook threw');
      return false;
    }
  }

  #onListenerError(point: ListeningPoint, err: unknown): void {
    this.#stats.socketErrors++;
    this.#logger.debug(
      { err, protocol: point.protocol, local: point.local },
      'listener or handshake error',
    );
  }
}

function reportClosed(report: SendReport): void {
  const error = new TransportError('SIP_ERR_CLOSED', 'transport layer is closed');
  queueMicrotask(() => report.failed(error));
}
