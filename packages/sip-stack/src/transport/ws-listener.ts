/**
 * WebSocket and secure WebSocket listener (RFC 7118) on the `ws` package. The handshake must offer
 * the `sip` subprotocol; it is echoed. Plain HTTP requests get 426.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage as HttpRequest, Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { TransportError } from './transport-error.js';
import type { ListeningPoint, ListenSpec } from './transport.js';
import { bindServer, closeServer } from './stream-listener.js';
import { loadTlsFiles } from './tls-files.js';

export const SIP_WS_SUBPROTOCOL = 'sip';

export type WsRefusal = 'subprotocol' | 'path' | 'limit';

export interface WsListenerHandler {
  admit(point: ListeningPoint, socket: Socket): boolean;
  onWsAccept(point: ListeningPoint, ws: WebSocket, socket: Socket): void;
  onRefused(point: ListeningPoint, why: WsRefusal, socket: Socket): void;
  onListenerError(point: ListeningPoint, err: unknown): void;
}

export interface WsListenerOptions {
  tlsHandshakeTimeoutMs: number;
  /** Largest WebSocket message accepted; bigger ones close the connection (1009). */
  maxPayload: number;
}

const REFUSAL_STATUS: Record<WsRefusal, string> = {
  subprotocol: '400 Bad Request',
  path: '404 Not Found',
  limit: '503 Service Unavailable',
};

/** Subprotocols offered in Sec-WebSocket-Protocol. */
export function offeredSubprotocols(req: HttpRequest): string[] {
  const raw = req.headers['sec-websocket-protocol'];
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function refuse(socket: Socket, why: WsRefusal): void {
  if (!socket.writable) return;
  socket.end(`HTTP/1.1 ${REFUSAL_STATUS[why]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export class WsListener {
  readonly point: ListeningPoint;
  readonly #server: HttpServer;
  readonly #wss: WebSocketServer;

  private constructor(server: HttpServer, wss: WebSocketServer, point: ListeningPoint) {
    this.#server = server;
    this.#wss = wss;
    this.point = point;
  }

  static async listen(
    spec: ListenSpec,
    handler: WsListenerHandler,
    opts: WsListenerOptions,
  ): Promise<WsListener> {
    const server = await createHttpServerFor(spec, opts);
    const point = await bindServer(server, spec);
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
      // RFC 7118 §4.1: the server echoes the `sip` subprotocol.
      handleProtocols: (offered) => (offered.has(SIP_WS_SUBPROTOCOL) ? SIP_WS_SUBPROTOCOL : false),
    });
    wss.on('error', (err) => handler.onListenerError(point, err));
    server.on('error', (err) => handler.onListenerError(point, err));
    server.on('tlsClientError', (err: Error) => handler.onListenerError(point, err));
    server.on('clientError', (err: Error, socket: Socket) => {
      handler.onListenerError(point, err);
      socket.destroy();
    });
    server.on('request', (_req, res) => {
      res.writeHead(426, { Upgrade: 'websocket', Connection: 'close' });
      res.end();
    });
    server.on('upgrade', (req: HttpRequest, socket: Socket, head: Buffer) => {
      socket.on('error', (err) => handler.onListenerError(point, err));
      const why = checkUpgrade(req, spec.wsPath, () => handler.admit(point, socket));
      if (why !== undefined) {
        handler.onRefused(point, why, socket);
        refuse(socket, why);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => handler.onWsAccept(point, ws, socket));
    });
    return new WsListener(server, wss, point);
  }

  async close(): Promise<void> {
    this.#wss.close();
    this.#server.closeAllConnections();
    await closeServer(this.#server);
  }
}

function checkUpgrade(
  req: HttpRequest,
  wsPath: string | undefined,
  admit: () => boolean,
): WsRefusal | undefined {
  // RFC 7118 §4.1: a handshake without the `sip` subprotocol is not a SIP WebSocket connection.
  if (!offeredSubprotocols(req).includes(SIP_WS_SUBPROTOCOL)) return 'subprotocol';
  if (wsPath !== undefined && (req.url ?? '/').split('?')[0] !== wsPath) return 'path';
  if (!admit()) return 'limit';
  return undefined;
}

async function createHttpServerFor(spec: ListenSpec, opts: WsListenerOptions): Promise<HttpServer> {
  if (spec.protocol === 'ws') return createHttpServer();
  if (spec.tls === undefined)
    throw new TransportError('SIP_ERR_TLS_CONFIG', 'wss listener needs tls options');
  const tls = await loadTlsFiles(spec.tls);
  try {
    const server = createHttpsServer({
      ...tls.options,
      handshakeTimeout: opts.tlsHandshakeTimeoutMs,
    });
    for (const [name, ctx] of tls.sni) server.addContext(name, ctx);
    return server;
  } catch (err) {
    throw new TransportError('SIP_ERR_TLS_CONFIG', `bad TLS certificate or key: ${String(err)}`, {
      cause: err,
    });
  }
}
