/** A bound UDP socket: datagrams in, datagrams out. Socket errors are reported, never thrown. */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import type { LookupOneOptions } from 'node:dns';
import { TransportError } from './transport-error.js';
import type { Endpoint, ListeningPoint, ListenSpec } from './transport.js';
import { ipFamily, normaliseAddress } from './ip-address.js';

export interface UdpListenerHandler {
  onDatagram(listener: UdpListener, bytes: Buffer, remote: Endpoint): void;
  onListenerError(point: ListeningPoint, err: unknown): void;
}

type LookupCallback = (err: Error | null, address: string, family: number) => void;

/**
 * The socket's address lookup: an IP literal (every address the transport sends to) is answered
 * synchronously, so a send does not go through dns.lookup and an extra tick; names still resolve.
 */
function literalLookup(
  host: string,
  options: number | LookupOneOptions,
  callback: LookupCallback,
): void {
  const family = ipFamily(host);
  if (family !== 0) {
    callback(null, host, family);
    return;
  }
  const opts: LookupOneOptions = typeof options === 'number' ? { family: options } : options;
  dnsLookup(host, opts, callback);
}

export class UdpListener {
  readonly point: ListeningPoint;
  /** 6 for an IPv6 socket (which may be dual-stack), else 4. */
  readonly family: 4 | 6;
  readonly #socket: Socket;
  #closed = false;

  private constructor(socket: Socket, point: ListeningPoint) {
    this.#socket = socket;
    this.point = point;
    this.family = ipFamily(point.local.address) === 6 ? 6 : 4;
  }

  static async listen(spec: ListenSpec, handler: UdpListenerHandler): Promise<UdpListener> {
    const family = ipFamily(spec.address);
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', lookup: literalLookup });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) =>
        reject(new TransportError('SIP_ERR_LISTEN', err.message, { cause: err })),
      );
      socket.bind(
        { address: spec.address, port: spec.port, exclusive: spec.exclusive ?? true },
        () => resolve(),
      );
    });
    const addr = socket.address();
    const point: ListeningPoint = {
      protocol: 'udp',
      local: { address: normaliseAddress(addr.address), port: addr.port },
      ...(spec.advertised === undefined ? {} : { advertised: spec.advertised }),
    };
    const listener = new UdpListener(socket, point);
    socket.removeAllListeners('error');
    socket.on('error', (err) => handler.onListenerError(point, err));
    socket.on('message', (msg, rinfo) =>
      handler.onDatagram(listener, msg, {
        address: normaliseAddress(rinfo.address),
        port: rinfo.port,
      }),
    );
    return listener;
  }

  send(bytes: Buffer, remote: Endpoint): Promise<void> {
    if (this.#closed)
      return Promise.reject(new TransportError('SIP_ERR_CLOSED', 'UDP listener is closed'));
    return new Promise((resolve, reject) => {
      // An IPv4 peer reached from a dual-stack IPv6 socket is addressed as IPv4-mapped.
      const address =
        this.family === 6 && ipFamily(remote.address) === 4
          ? `::ffff:${remote.address}`
          : remote.address;
      this.#socket.send(bytes, remote.port, address, (err) => {
        if (err) reject(new TransportError('SIP_ERR_SEND', err.message, { cause: err }));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** Whitespace-only datagrams: CRLF keep-alives some user agents send over UDP. */
export function isKeepAliveDatagram(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 13 && b !== 10 && b !== 0 && b !== 32) return false;
  return true;
}
