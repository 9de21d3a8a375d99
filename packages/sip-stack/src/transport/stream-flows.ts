/**
 * The stream side of the transport layer (RFC 3261 §18.3, RFC 5626 flows, RFC 7118): accepted and
 * opened TCP, TLS, WS and WSS connections, their limits, idle reaping, and the messages they
 * frame. Nothing a peer sends throws out of this class.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../util/clock.js';
import { ConnectionTable } from './connection-table.js';
import { SocketConnection, endpointsOf } from './connection.js';
import type { Connection, ConnectionContext, ConnectionHandler } from './connection.js';
import type { InboundProcessor } from './inbound-processor.js';
import { normaliseAddress } from './ip-address.js';
import { connectStream, loadTlsClient } from './stream-connector.js';
import type { LoadedTlsClient, TlsClientOptions } from './stream-connector.js';
import { TransportError } from './transport-error.js';
import type { ResolvedTransportOptions } from './transport-layer-options.js';
import type { TransportStats } from './transport-stats.js';
import type {
  Flow,
  FlowClosedHandler,
  FlowCloseReason,
  ListeningPoint,
  Target,
  TransportLogger,
} from './transport.js';
import { WsConnection } from './ws-connection.js';

export interface StreamFlowsContext {
  clock: Clock;
  logger: TransportLogger;
  opts: ResolvedTransportOptions;
  stats: TransportStats;
  inbound: InboundProcessor;
  tlsClient: TlsClientOptions | undefined;
  flowIdSuffix: string | undefined;
  /** True when the dispatch hook handed the bytes to another process. */
  dispatched(bytes: Buffer, flow: Flow): boolean;
  /** Whether the transport layer is closed. */
  closed(): boolean;
}

export class StreamFlows {
  readonly table = new ConnectionTable();
  readonly #ctx: StreamFlowsContext;
  readonly #connCtx: ConnectionContext;
  readonly #flowClosed = new Set<FlowClosedHandler>();
  #tlsClient: Promise<LoadedTlsClient> | undefined;
  #reapTimer: TimerHandle | undefined;

  /** Replies to bad requests go back over the connection the request came on. */
  readonly #reply = (bytes: Buffer, flow: Flow): Promise<void> => {
    const conn = flow.flowId === undefined ? undefined : this.table.get(flow.flowId);
    if (conn === undefined)
      return Promise.reject(
        new TransportError('SIP_ERR_FLOW_CLOSED', `flow ${flow.flowId ?? ''} is closed`),
      );
    return this.#write(conn, bytes);
  };

  constructor(ctx: StreamFlowsContext) {
    this.#ctx = ctx;
    this.#connCtx = {
      clock: ctx.clock,
      handler: this.#connectionHandler(),
      maxMessageSize: ctx.opts.maxMessageSize,
      maxWriteBuffer: ctx.opts.maxWriteBuffer,
      closeGraceMs: 2000,
      ...(ctx.flowIdSuffix === undefined ? {} : { flowIdSuffix: ctx.flowIdSuffix }),
    };
  }

  /** Appended to the flow id of every connection opened from now on (multi-process edge). */
  setFlowIdSuffix(suffix: string | undefined): void {
    if (suffix === undefined) delete this.#connCtx.flowIdSuffix;
    else this.#connCtx.flowIdSuffix = suffix;
  }

  onFlowClosed(handler: FlowClosedHandler): () => void {
    this.#flowClosed.add(handler);
    return () => this.#flowClosed.delete(handler);
  }

  /** Whether a new connection from this address is within the limits (counted when refused). */
  admit(remoteAddress: string): boolean {
    const address = normaliseAddress(remoteAddress);
    const { opts } = this.#ctx;
    const ok =
      !this.#ctx.closed() &&
      this.table.size < opts.maxConnections &&
      this.table.countForAddress(address) < opts.maxPerPeer;
    if (!ok) {
      this.#ctx.stats.connections.refused++;
      this.#ctx.logger.info(
        { remote: address, open: this.table.size },
        'stream connection refused: limit',
      );
    }
    return ok;
  }

  acceptSocket(socket: Socket, protocol: 'tcp' | 'tls'): void {
    this.#accept(new SocketConnection(socket, protocol, false, this.#connCtx), socket);
  }

  acceptWs(point: ListeningPoint, ws: WebSocket, socket: Socket): void {
    const { local, remote } = endpointsOf(socket);
    const protocol = point.protocol as 'ws' | 'wss';
    this.#accept(new WsConnection(ws, protocol, local, remote, false, this.#connCtx), socket);
  }

  /** A new outbound connection (RFC 3261 §18.1.1), within the limits. */
  async connect(target: Target): Promise<Connection> {
    const { opts } = this.#ctx;
    if (
      this.table.size >= opts.maxConnections ||
      this.table.countForAddress(target.address) >= opts.maxPerPeer
    ) {
      throw new TransportError(
        'SIP_ERR_CONNECTION_LIMIT',
        `connection limit reached for ${target.address}`,
      );
    }
    try {
      const conn = await connectStream(target, this.#connCtx, {
        clock: this.#ctx.clock,
        connectTimeoutMs: opts.connectTimeoutMs,
        maxPayload: opts.maxMessageSize * 2,
        tls: () => (this.#tlsClient ??= loadTlsClient(this.#ctx.tlsClient)),
      });
      if (this.#ctx.closed()) {
        conn.destroy();
        throw new TransportError('SIP_ERR_CLOSED', 'transport layer is closed');
      }
      this.#ctx.stats.connections.connected++;
      this.#register(conn);
      return conn;
    } catch (err) {
      this.#ctx.stats.connections.connectFailures++;
      throw err;
    }
  }

  /** Stops reaping and drops every connection at once (shutdown). */
  destroyAll(): void {
    this.#ctx.clock.clearTimeout(this.#reapTimer);
    this.#reapTimer = undefined;
    for (const c of [...this.table.values()]) c.destroy();
  }

  #write(conn: Connection, bytes: Buffer): Promise<void> {
    return conn.write(bytes).then(() => void this.#ctx.stats.sent[conn.protocol]++);
  }

  #accept(conn: Connection, socket: Socket): void {
    if (socket.destroyed || this.#ctx.closed()) {
      conn.destroy();
      return;
    }
    this.#ctx.stats.connections.accepted++;
    this.#register(conn);
  }

  #register(conn: Connection): void {
    this.table.add(conn);
    this.#ctx.stats.connections.open = this.table.size;
    this.#scheduleReap();
  }

  #connectionHandler(): ConnectionHandler {
    const ctx = this.#ctx;
    return {
      onMessage: (conn, bytes) => {
        if (ctx.dispatched(bytes, conn.flow)) return;
        const ws = conn.protocol === 'ws' || conn.protocol === 'wss';
        ctx.inbound.process(bytes, conn.flow, this.#reply, ws);
      },
      onPing: () => void ctx.stats.keepAlivesAnswered++,
      onFramingError: (conn, kind, reason, head) => {
        ctx.logger.info({ flowId: conn.flowId, kind, reason }, 'closing stream: cannot frame');
        if (kind === 'bad-framing' || head === undefined) {
          // RFC 3261 §18.3: without a valid Content-Length the stream cannot be resynchronised.
          if (kind === 'bad-framing') ctx.stats.badFraming++;
          else ctx.stats.tooLarge++;
          conn.close('bad-framing');
          return;
        }
        void ctx.inbound
          .answerTooLarge(head, conn.flow, (out) => this.#write(conn, out))
          .finally(() => conn.close('too-large'));
      },
      onSocketError: (conn, err) => {
        const code = (err as { code?: unknown }).code;
        if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') ctx.stats.tooLarge++;
        else ctx.stats.socketErrors++;
        ctx.logger.debug({ err, flowId: conn.flowId }, 'stream socket error');
      },
      onClose: (conn, reason) => this.#onConnectionClosed(conn, reason),
    };
  }

  #onConnectionClosed(conn: Connection, reason: FlowCloseReason): void {
    if (!this.table.remove(conn)) return;
    const { stats, logger } = this.#ctx;
    stats.connections.open = this.table.size;
    if (reason === 'idle') stats.connections.reaped++;
    logger.debug({ flowId: conn.flowId, reason }, 'flow closed');
    for (const h of this.#flowClosed) {
      try {
        h(conn.flow, reason);
      } catch (err) {
        stats.handlerErrors++;
        logger.error({ err, flowId: conn.flowId }, 'flow-closed handler threw');
      }
    }
  }

  /** One sweep timer while stream connections exist; closes those idle past the timeout. */
  #scheduleReap(): void {
    const idle = this.#ctx.opts.idleMs;
    if (idle <= 0 || this.#reapTimer !== undefined || this.table.size === 0 || this.#ctx.closed())
      return;
    const interval = Math.max(1, Math.ceil(idle / 4));
    const clock = this.#ctx.clock;
    this.#reapTimer = clock.setTimeout(() => {
      this.#reapTimer = undefined;
      for (const c of this.table.idle(clock.now(), idle)) c.close('idle');
      this.#scheduleReap();
    }, interval);
  }
}
