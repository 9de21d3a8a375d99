import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface Datagram {
  data: Buffer;
  from: RemoteInfo;
}

/** A UDP endpoint on loopback playing a phone or gateway; queues what it receives. */
export class UdpPeer {
  readonly address: string;
  readonly port: number;
  #socket: Socket;
  #queue: Datagram[] = [];
  #waiters: Array<(d: Datagram) => void> = [];

  private constructor(socket: Socket, address: string) {
    this.#socket = socket;
    this.address = address;
    this.port = socket.address().port;
    socket.on('message', (data, from) => {
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter({ data, from });
      else this.#queue.push({ data, from });
    });
  }

  static async open(address = '127.0.0.1', port = 0): Promise<UdpPeer> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpPeer(socket, address);
  }

  send(data: Uint8Array, port: number, address = this.address): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.send(data, port, address, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** The next datagram received, or a rejection after `timeoutMs` (a bound, not an assertion). */
  next(timeoutMs = 3000): Promise<Datagram> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (d: Datagram): void => {
        clearTimeout(timer);
        resolve(d);
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`no datagram on ${this.address}:${this.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Datagrams received and not yet taken. */
  get pending(): number {
    return this.#queue.length;
  }

  close(): void {
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
  }
}

/** An RTP packet (RFC 3550 §5.1) with a 160-byte G.711 payload. */
export function rtpPacket(
  seq: number,
  opts: { pt?: number; ssrc?: number; ts?: number; payload?: number; marker?: boolean } = {},
): Buffer {
  const b = Buffer.alloc(12 + 160, opts.payload ?? 0xd5);
  b[0] = 0x80;
  b[1] = ((opts.marker ?? false) ? 0x80 : 0) | (opts.pt ?? 0);
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((opts.ts ?? seq * 160) >>> 0, 4);
  b.writeUInt32BE((opts.ssrc ?? 0x1234abcd) >>> 0, 8);
  return b;
}

/** An RTCP receiver report (RFC 3550 §6.4.2) with no report blocks. */
export function rtcpPacket(ssrc = 0x1234abcd): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x80;
  b[1] = 201;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(ssrc, 4);
  return b;
}

/** Polls `fn` until it returns a value other than undefined/false; rejects after `timeoutMs`. */
export async function waitFor<T>(
  fn: () => T | undefined | false,
  timeoutMs = 3000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with the first emission of `event` on an emitter-like object. */
export function nextEvent<A extends unknown[]>(
  target: { once(event: never, listener: (...args: A) => void): unknown },
  event: string,
  timeoutMs = 3000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no '${event}' event within ${timeoutMs} ms`)),
      timeoutMs,
    );
    (target.once as (e: string, l: (...args: A) => void) => unknown)(event, (...args: A) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}
