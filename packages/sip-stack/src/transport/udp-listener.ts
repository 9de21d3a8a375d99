/** A bound UDP socket: datagrams in, datagrams out. Socket errors are reported, never thrown. */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import type { LookupOneOptions } from 'node:dns';
import { TransportError } from './transport-error.js';
import type { Endpoint, Flow, ListeningPoint, ListenSpec, SendReport } from './transport.js';
import { ipFamily, normaliseAddress } from './ip-address.js';
import { UdpFlows } from './udp-flows.js';

export interface UdpListenerHandler {
  /** A datagram from `flow.remote` (one shared flow object per remote, see UdpFlows). */
  onDatagram(listener: UdpListener, bytes: Buffer, flow: Flow): void;
  onListenerError(point: ListeningPoint, err: unknown): void;
  /** A `post` went out (the socket accepted it). */
  onPosted(report: SendReport, flow: Flow, bytes: Buffer): void;
  /** A `post` failed: the error is a TransportError (SIP_ERR_SEND or SIP_ERR_CLOSED). */
  onPostFailed(report: SendReport, err: TransportError): void;
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
  readonly #handler: UdpListenerHandler;
  /** The flow per remote endpoint, for datagrams in and out. */
  readonly flows: UdpFlows;
  #closed = false;
  /**
   * Posts in flight, oldest first: the socket completes the sends of one socket in the order they
   * were made (libuv queues a send behind any pending one), so one callback bound once can tell
   * whose send completed. Slots are reused; nothing is allocated per send.
   */
  readonly #reports: (SendReport | undefined)[] = [];
  readonly #flows: (Flow | undefined)[] = [];
  readonly #bytes: (Buffer | undefined)[] = [];
  #head = 0;

  readonly #onPosted = (err: Error | null): void => {
    const i = this.#head;
    const report = this.#reports[i];
    const flow = this.#flows[i];
    const bytes = this.#bytes[i];
    this.#reports[i] = undefined;
    this.#flows[i] = undefined;
    this.#bytes[i] = undefined;
    if (++this.#head === this.#reports.length) this.#clearPosts();
    if (report === undefined || flow === undefined || bytes === undefined) return;
    if (err) this.#handler.onPostFailed(report, sendError(err));
    else this.#handler.onPosted(report, flow, bytes);
  };

  private constructor(socket: Socket, point: ListeningPoint, handler: UdpListenerHandler) {
    this.#socket = socket;
    this.point = point;
    this.#handler = handler;
    this.flows = new UdpFlows(point.local);
    this.family = ipFamily(point.local.address) === 6 ? 6 : 4;
  }

  /** SO_RCVBUF as the OS reports it (Linux reports twice the size asked, capped at rmem_max). */
  receiveBufferSize(): number {
    try {
      return this.#socket.getRecvBufferSize();
    } catch {
      return 0;
    }
  }

  /** `receiveBuffer`: SO_RCVBUF in bytes (0: the OS default); the kernel caps it at rmem_max. */
  static async listen(
    spec: ListenSpec,
    handler: UdpListenerHandler,
    receiveBuffer = 0,
  ): Promise<UdpListener> {
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
    if (receiveBuffer > 0) {
      try {
        socket.setRecvBufferSize(receiveBuffer);
      } catch {
        // The OS refused the size: its default buffer stays (a smaller queue, not an error).
      }
    }
    const addr = socket.address();
    const point: ListeningPoint = {
      protocol: 'udp',
      local: { address: normaliseAddress(addr.address), port: addr.port },
      ...(spec.advertised === undefined ? {} : { advertised: spec.advertised }),
    };
    const listener = new UdpListener(socket, point, handler);
    socket.removeAllListeners('error');
    socket.on('error', (err) => handler.onListenerError(point, err));
    const flows = listener.flows;
    socket.on('message', (msg, rinfo) =>
      handler.onDatagram(listener, msg, flows.get(rinfo.address, rinfo.port)),
    );
    return listener;
  }

  send(bytes: Buffer, remote: Endpoint): Promise<void> {
    if (this.#closed)
      return Promise.reject(new TransportError('SIP_ERR_CLOSED', 'UDP listener is closed'));
    return new Promise((resolve, reject) => {
      this.#socket.send(bytes, remote.port, this.#socketAddress(remote.address), (err) => {
        if (err) reject(sendError(err));
        else resolve();
      });
    });
  }

  /**
   * Sends `bytes` to `flow.remote` and tells the handler (`onPosted` / `onPostFailed`) for
   * `report`, never before returning. To an IP literal (every address the transport sends to)
   * this allocates no promise and no closure.
   */
  post(bytes: Buffer, flow: Flow, report: SendReport): void {
    const remote = flow.remote;
    if (this.#closed || ipFamily(remote.address) === 0) {
      // a name resolves asynchronously and could finish out of order: the promise path
      this.send(bytes, remote).then(
        () => this.#handler.onPosted(report, flow, bytes),
        (err: unknown) => this.#handler.onPostFailed(report, asTransportError(err)),
      );
      return;
    }
    this.#reports.push(report);
    this.#flows.push(flow);
    this.#bytes.push(bytes);
    try {
      this.#socket.send(bytes, remote.port, this.#socketAddress(remote.address), this.#onPosted);
    } catch (err) {
      // thrown before the socket took the send (a bad port, a socket closed under us)
      this.#reports.pop();
      this.#flows.pop();
      this.#bytes.pop();
      if (this.#head === this.#reports.length) this.#clearPosts();
      queueMicrotask(() => this.#handler.onPostFailed(report, asTransportError(err)));
    }
  }

  /** An IPv4 peer reached from a dual-stack IPv6 socket is addressed as IPv4-mapped. */
  #socketAddress(address: string): string {
    return this.family === 6 && ipFamily(address) === 4 ? `::ffff:${address}` : address;
  }

  #clearPosts(): void {
    this.#reports.length = 0;
    this.#flows.length = 0;
    this.#bytes.length = 0;
    this.#head = 0;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

function sendError(err: Error): TransportError {
  return new TransportError('SIP_ERR_SEND', err.message, { cause: err });
}

function asTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  return err instanceof Error ? sendError(err) : new TransportError('SIP_ERR_SEND', String(err));
}

/** Whitespace-only datagrams: CRLF keep-alives some user agents send over UDP. */
export function isKeepAliveDatagram(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 13 && b !== 10 && b !== 0 && b !== 32) return false;
  return true;
}
