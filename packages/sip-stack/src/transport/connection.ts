/**
 * One stream flow (TCP, TLS, WS, WSS): identity, activity time, writes and an idempotent close.
 * Socket-level failures are reported to the handler, never thrown.
 */
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../util/clock.js';
import { TransportError } from './transport-error.js';
import { StreamFramer } from './stream-framer.js';
import type { FramingErrorKind } from './stream-framer.js';
import type { Endpoint, Flow, FlowCloseReason, TransportProtocol } from './transport.js';
import { formatHostPort, normaliseAddress } from './ip-address.js';

export interface Connection {
  readonly flow: Flow;
  readonly flowId: string;
  readonly protocol: TransportProtocol;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly outbound: boolean;
  readonly lastActivity: number;
  readonly closed: boolean;
  write(bytes: Buffer): Promise<void>;
  /** Idempotent. 'local', 'idle', 'too-large' and 'bad-framing' flush pending writes first. */
  close(reason: FlowCloseReason): void;
  /** Closes (reason 'local') and drops the socket at once, pending writes included. */
  destroy(): void;
}

export interface ConnectionHandler {
  onMessage(conn: Connection, bytes: Buffer): void;
  /** RFC 5626 §3.5.1 ping; the connection has already answered with a CRLF pong. */
  onPing(conn: Connection): void;
  onFramingError(conn: Connection, kind: FramingErrorKind, reason: string, head?: Buffer): void;
  onSocketError(conn: Connection, err: unknown): void;
  onClose(conn: Connection, reason: FlowCloseReason): void;
}

export interface ConnectionContext {
  clock: Clock;
  handler: ConnectionHandler;
  maxMessageSize: number;
  /** Bytes queued for a peer that does not read before the connection is dropped. */
  maxWriteBuffer: number;
  /** Grace period for a flushing close before the socket is destroyed. */
  closeGraceMs: number;
  /** Appended to every flow id (names the process holding the connection). */
  flowIdSuffix?: string;
}

let nextConnectionId = 1;

export function makeFlowId(
  protocol: TransportProtocol,
  local: Endpoint,
  remote: Endpoint,
  id?: number,
): string {
  const base = `${protocol}:${formatHostPort(local.address, local.port)}->${formatHostPort(remote.address, remote.port)}`;
  return id === undefined ? base : `${base}#${id}`;
}

export function endpointsOf(socket: Socket): { local: Endpoint; remote: Endpoint } {
  return {
    local: { address: normaliseAddress(socket.localAddress ?? ''), port: socket.localPort ?? 0 },
    remote: { address: normaliseAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 },
  };
}

/** Shared identity, activity and close bookkeeping for stream connections. */
export abstract class BaseConnection implements Connection {
  readonly flow: Flow;
  readonly flowId: string;
  readonly protocol: TransportProtocol;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly outbound: boolean;
  protected readonly ctx: ConnectionContext;
  #lastActivity: number;
  #closeReason: FlowCloseReason | undefined;
  #graceTimer: TimerHandle | undefined;

  constructor(
    protocol: TransportProtocol,
    local: Endpoint,
    remote: Endpoint,
    outbound: boolean,
    ctx: ConnectionContext,
  ) {
    this.protocol = protocol;
    this.local = local;
    this.remote = remote;
    this.outbound = outbound;
    this.ctx = ctx;
    this.flowId =
      makeFlowId(protocol, local, remote, nextConnectionId++) + (ctx.flowIdSuffix ?? '');
    this.flow = { protocol, local, remote, flowId: this.flowId };
    this.#lastActivity = ctx.clock.now();
  }

  get lastActivity(): number {
    return this.#lastActivity;
  }

  get closed(): boolean {
    return this.#closeReason !== undefined;
  }

  protected touch(): void {
    this.#lastActivity = this.ctx.clock.now();
  }

  write(bytes: Buffer): Promise<void> {
    if (this.closed)
      return Promise.reject(
        new TransportError('SIP_ERR_FLOW_CLOSED', `flow ${this.flowId} is closed`),
      );
    this.touch();
    return this.writeBytes(bytes);
  }

  close(reason: FlowCloseReason): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    if (
      reason === 'local' ||
      reason === 'idle' ||
      reason === 'too-large' ||
      reason === 'bad-framing'
    ) {
      this.endGracefully();
      this.#graceTimer = this.ctx.clock.setTimeout(() => this.destroyNow(), this.ctx.closeGraceMs);
    } else {
      this.destroyNow();
    }
    this.ctx.handler.onClose(this, reason);
  }

  destroy(): void {
    this.close('local');
    this.ctx.clock.clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.destroyNow();
  }

  /** Called by subclasses when the underlying socket is gone. */
  protected socketGone(reason: FlowCloseReason): void {
    this.ctx.clock.clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.close(reason);
  }

  protected abstract writeBytes(bytes: Buffer): Promise<void>;
  protected abstract endGracefully(): void;
  protected abstract destroyNow(): void;
}

/** TCP or TLS: RFC 3261 §18.3 framing on a node socket. */
export class SocketConnection extends BaseConnection {
  readonly #socket: Socket;
  readonly #framer: StreamFramer;

  constructor(socket: Socket, protocol: 'tcp' | 'tls', outbound: boolean, ctx: ConnectionContext) {
    const { local, remote } = endpointsOf(socket);
    super(protocol, local, remote, outbound, ctx);
    this.#socket = socket;
    this.#framer = new StreamFramer(
      {
        onMessage: (bytes) => ctx.handler.onMessage(this, bytes),
        onPing: () => {
          // RFC 5626 §3.5.1: answer a CRLFCRLF ping with a single CRLF pong.
          this.#rawWrite(Buffer.from('\r\n'));
          ctx.handler.onPing(this);
        },
        onError: (kind, reason, head) => ctx.handler.onFramingError(this, kind, reason, head),
      },
      ctx.maxMessageSize,
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      this.touch();
      this.#framer.push(chunk);
    });
    socket.on('error', (err) => {
      ctx.handler.onSocketError(this, err);
      this.socketGone('error');
    });
    socket.on('close', () => this.socketGone('remote'));
  }

  protected writeBytes(bytes: Buffer): Promise<void> {
    if (this.#socket.writableLength > this.ctx.maxWriteBuffer) {
      this.close('error');
      return Promise.reject(
        new TransportError('SIP_ERR_SEND', `peer of ${this.flowId} is not reading`),
      );
    }
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (err) => {
        if (err) reject(new TransportError('SIP_ERR_SEND', err.message, { cause: err }));
        else resolve();
      });
    });
  }

  #rawWrite(bytes: Buffer): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(bytes);
  }

  protected endGracefully(): void {
    this.#framer.stop();
    this.#socket.end();
  }

  protected destroyNow(): void {
    this.#framer.stop();
    this.#socket.destroy();
  }
}
