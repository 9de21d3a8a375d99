/** A TCP or TLS server socket. Accepted sockets are handed to the layer; errors never escape. */
import { createServer as createTcpServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { TransportError } from './transport-error.js';
import type { ListeningPoint, ListenSpec } from './transport.js';
import { normaliseAddress } from './ip-address.js';
import { loadTlsFiles } from './tls-files.js';

export interface StreamListenerHandler {
  /** Admission control before any byte is read (connection limits). False refuses. */
  admit(point: ListeningPoint, socket: Socket): boolean;
  onAccept(point: ListeningPoint, socket: Socket | TLSSocket): void;
  onListenerError(point: ListeningPoint, err: unknown): void;
}

export interface StreamListenerOptions {
  tlsHandshakeTimeoutMs: number;
}

export async function bindServer(server: Server, spec: ListenSpec): Promise<ListeningPoint> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new TransportError('SIP_ERR_LISTEN', err.message, { cause: err })),
    );
    server.listen({ host: spec.address, port: spec.port, exclusive: spec.exclusive ?? true }, () =>
      resolve(),
    );
  });
  server.removeAllListeners('error');
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : spec.port;
  const address = typeof addr === 'object' && addr !== null ? addr.address : spec.address;
  return {
    protocol: spec.protocol,
    local: { address: normaliseAddress(address), port },
    ...(spec.advertised === undefined ? {} : { advertised: spec.advertised }),
  };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

export class StreamListener {
  readonly point: ListeningPoint;
  readonly #server: Server;

  private constructor(server: Server, point: ListeningPoint) {
    this.#server = server;
    this.point = point;
  }

  static async listen(
    spec: ListenSpec,
    handler: StreamListenerHandler,
    opts: StreamListenerOptions,
  ): Promise<StreamListener> {
    const server = await createServerFor(spec, opts);
    const point = await bindServer(server, spec);
    const listener = new StreamListener(server, point);
    server.on('error', (err) => handler.onListenerError(point, err));
    if (spec.protocol === 'tls') {
      server.on('connection', (raw: Socket) => {
        if (!handler.admit(point, raw)) raw.destroy();
      });
      server.on('secureConnection', (socket: TLSSocket) => handler.onAccept(point, socket));
      // Handshake failures (bad client hello, unknown CA, timeout) are the peer's problem: count them.
      server.on('tlsClientError', (err) => handler.onListenerError(point, err));
    } else {
      server.on('connection', (socket: Socket) => {
        if (handler.admit(point, socket)) handler.onAccept(point, socket);
        else socket.destroy();
      });
    }
    return listener;
  }

  close(): Promise<void> {
    return closeServer(this.#server);
  }
}

async function createServerFor(spec: ListenSpec, opts: StreamListenerOptions): Promise<Server> {
  if (spec.protocol === 'tcp') return createTcpServer({ noDelay: true });
  if (spec.tls === undefined)
    throw new TransportError('SIP_ERR_TLS_CONFIG', `${spec.protocol} listener needs tls options`);
  const tls = await loadTlsFiles(spec.tls);
  try {
    const server = createTlsServer({
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
