/**
 * Outbound stream connections: TCP, TLS (with SNI), WS and WSS (RFC 7118 subprotocol `sip`).
 */
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { WebSocket } from 'ws';
import type { Clock } from '../util/clock.js';
import { SocketConnection, endpointsOf } from './connection.js';
import type { Connection, ConnectionContext } from './connection.js';
import { WsConnection } from './ws-connection.js';
import { TransportError } from './transport-error.js';
import type { Target } from './transport.js';
import { formatHostPort, ipFamily } from './ip-address.js';
import { SIP_WS_SUBPROTOCOL } from './ws-listener.js';

/** TLS client settings for outbound TLS and WSS. Files are PEM. */
export interface TlsClientOptions {
  /** Trusted CA bundle; default: node's built-in roots. */
  caFile?: string;
  /** Client certificate (mutual TLS). */
  certFile?: string;
  keyFile?: string;
  /** Default true. */
  rejectUnauthorized?: boolean;
}

export interface LoadedTlsClient {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

export async function loadTlsClient(opts: TlsClientOptions | undefined): Promise<LoadedTlsClient> {
  const read = async (f: string | undefined): Promise<Buffer | undefined> => {
    if (f === undefined) return undefined;
    try {
      return await readFile(f);
    } catch (err) {
      throw new TransportError('SIP_ERR_TLS_CONFIG', `cannot read TLS client file ${f}`, {
        cause: err,
      });
    }
  };
  const [ca, cert, key] = await Promise.all([
    read(opts?.caFile),
    read(opts?.certFile),
    read(opts?.keyFile),
  ]);
  const out: LoadedTlsClient = { rejectUnauthorized: opts?.rejectUnauthorized ?? true };
  if (ca !== undefined) out.ca = ca;
  if (cert !== undefined) out.cert = cert;
  if (key !== undefined) out.key = key;
  return out;
}

export interface ConnectorOptions {
  clock: Clock;
  connectTimeoutMs: number;
  maxPayload: number;
  tls: () => Promise<LoadedTlsClient>;
}

/** SNI name: the target's server name, never an IP literal (RFC 6066 §3). */
function serverNameOf(target: Target): string | undefined {
  if (target.serverName !== undefined) return target.serverName;
  return ipFamily(target.address) === 0 ? target.address : undefined;
}

function connectError(target: Target, err: unknown): TransportError {
  const why = err instanceof Error ? err.message : String(err);
  return new TransportError(
    'SIP_ERR_CONNECT',
    `cannot connect ${target.protocol} to ${formatHostPort(target.address, target.port)}: ${why}`,
    {
      cause: err,
    },
  );
}

/** Resolves when `event` fires; rejects on error, close or the connect timeout (on the injected clock). */
function settle(
  emitter: Socket | WebSocket,
  event: string,
  opts: ConnectorOptions,
  abort: () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = opts.clock.setTimeout(() => {
      cleanup();
      abort();
      reject(new Error(`timed out after ${opts.connectTimeoutMs} ms`));
    }, opts.connectTimeoutMs);
    const onOk = (): void => {
      cleanup();
      resolve();
    };
    const onErr = (err?: unknown): void => {
      cleanup();
      abort();
      reject(err instanceof Error ? err : new Error('connection closed during setup'));
    };
    const cleanup = (): void => {
      opts.clock.clearTimeout(timer);
      emitter.off(event, onOk);
      emitter.off('error', onErr);
      emitter.off('close', onErr);
    };
    emitter.once(event, onOk);
    emitter.once('error', onErr);
    emitter.once('close', onErr);
  });
}

export async function connectStream(
  target: Target,
  ctx: ConnectionContext,
  opts: ConnectorOptions,
): Promise<Connection> {
  try {
    switch (target.protocol) {
      case 'tcp': {
        const socket = netConnect({ host: target.address, port: target.port, noDelay: true });
        await settle(socket, 'connect', opts, () => socket.destroy());
        return new SocketConnection(socket, 'tcp', true, ctx);
      }
      case 'tls': {
        const t = await opts.tls();
        const servername = serverNameOf(target);
        const socket = tlsConnect({
          host: target.address,
          port: target.port,
          ...t,
          ...(servername === undefined ? {} : { servername }),
        });
        await settle(socket, 'secureConnect', opts, () => socket.destroy());
        return new SocketConnection(socket, 'tls', true, ctx);
      }
      case 'ws':
      case 'wss':
        return await connectWs(target, target.protocol, ctx, opts);
      case 'udp':
        throw new Error('UDP is not a stream transport');
    }
  } catch (err) {
    throw err instanceof TransportError ? err : connectError(target, err);
  }
}

async function connectWs(
  target: Target,
  protocol: 'ws' | 'wss',
  ctx: ConnectionContext,
  opts: ConnectorOptions,
): Promise<Connection> {
  const tls = protocol === 'wss' ? await opts.tls() : undefined;
  const servername = serverNameOf(target);
  const url = `${protocol}://${formatHostPort(target.address, target.port)}/`;
  const ws = new WebSocket(url, SIP_WS_SUBPROTOCOL, {
    perMessageDeflate: false,
    maxPayload: opts.maxPayload,
    ...(tls ?? {}),
    ...(servername === undefined ? {} : { servername }),
  });
  let socket: Socket | undefined;
  ws.once('upgrade', (res) => {
    socket = res.socket;
  });
  await settle(ws, 'open', opts, () => ws.terminate());
  // RFC 7118 §4.1: the server must have accepted the `sip` subprotocol.
  if (ws.protocol !== SIP_WS_SUBPROTOCOL || socket === undefined) {
    ws.terminate();
    throw new Error('server did not accept the sip subprotocol');
  }
  const { local, remote } = endpointsOf(socket);
  return new WsConnection(ws, protocol, local, remote, true, ctx);
}
