/**
 * A WebSocket flow (RFC 7118): one SIP message per text or binary message, no stream framing.
 */
import { isUtf8 } from 'node:buffer';
import type { WebSocket, RawData } from 'ws';
import { BaseConnection } from './connection.js';
import type { ConnectionContext } from './connection.js';
import { TransportError } from './transport-error.js';
import type { Endpoint } from './transport.js';

const PING = '\r\n\r\n';
const PONG = Buffer.from('\r\n');

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class WsConnection extends BaseConnection {
  readonly #ws: WebSocket;

  constructor(
    ws: WebSocket,
    protocol: 'ws' | 'wss',
    local: Endpoint,
    remote: Endpoint,
    outbound: boolean,
    ctx: ConnectionContext,
  ) {
    super(protocol, local, remote, outbound, ctx);
    this.#ws = ws;
    ws.on('message', (data: RawData) => this.#onData(toBuffer(data)));
    ws.on('error', (err) => {
      ctx.handler.onSocketError(this, err);
      // ws closes itself after a protocol error (bad frame, 1009 too big); mark the flow now.
      const code = (err as { code?: unknown }).code;
      this.socketGone(code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too-large' : 'error');
    });
    ws.on('close', () => this.socketGone('remote'));
    ws.on('ping', () => this.touch());
  }

  #onData(bytes: Buffer): void {
    if (this.closed) return;
    this.touch();
    if (bytes.length <= 4 && bytes.toString('latin1').replaceAll('\r\n', '') === '') {
      // RFC 5626 §3.5.1 keep-alive carried in a WebSocket message (as SIP.js sends it).
      if (bytes.toString('latin1') === PING) {
        this.#ws.send(PONG, { binary: false });
        this.ctx.handler.onPing(this);
      }
      return;
    }
    this.ctx.handler.onMessage(this, bytes);
  }

  protected writeBytes(bytes: Buffer): Promise<void> {
    if (this.#ws.bufferedAmount > this.ctx.maxWriteBuffer) {
      this.close('error');
      return Promise.reject(
        new TransportError('SIP_ERR_SEND', `peer of ${this.flowId} is not reading`),
      );
    }
    return new Promise((resolve, reject) => {
      // RFC 7118 §5: text frames must carry valid UTF-8; anything else goes as a binary frame.
      this.#ws.send(bytes, { binary: !isUtf8(bytes) }, (err) => {
        if (err) reject(new TransportError('SIP_ERR_SEND', err.message, { cause: err }));
        else resolve();
      });
    });
  }

  protected endGracefully(): void {
    this.#ws.close(1000);
  }

  protected destroyNow(): void {
    this.#ws.terminate();
  }
}
