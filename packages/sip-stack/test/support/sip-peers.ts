/**
 * Raw peers for transport tests: a UDP socket, a TCP client and a message builder, each written
 * without the code under test so they can disagree with it.
 */
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { parseMessage } from '../../src/message/parse-message.js';
import type { SipRequest } from '../../src/message/sip-message.js';
import type { TransportLayer } from '../../src/transport/transport-layer.js';
import type { IncomingMessage } from '../../src/transport/transport.js';

/** A FIFO whose `next()` waits; the deadline only stops a broken test from hanging. */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((v: T) => void)[] = [];

  push(item: T): void {
    const w = this.#waiters.shift();
    if (w !== undefined) w(item);
    else this.#items.push(item);
  }

  get size(): number {
    return this.#items.length;
  }

  next(deadlineMs = 5000): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(done);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error('queue: nothing arrived before the deadline'));
      }, deadlineMs);
      const done = (v: T): void => {
        clearTimeout(timer);
        resolve(v);
      };
      this.#waiters.push(done);
    });
  }
}

export interface RequestSpec {
  method?: string;
  uri?: string;
  via?: string;
  callId?: string;
  cseq?: string;
  body?: string;
  /** Replaces the Content-Length line ('' removes it). */
  contentLength?: string;
  extra?: string[];
}

export function sipRequest(spec: RequestSpec = {}): string {
  const method = spec.method ?? 'OPTIONS';
  const body = spec.body ?? '';
  const lines = [
    `${method} ${spec.uri ?? 'sip:service@example.test'} SIP/2.0`,
    `Via: ${spec.via ?? 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKpeer1;rport'}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.test>;tag=a1',
    'To: <sip:service@example.test>',
    `Call-ID: ${spec.callId ?? 'call-1@test'}`,
    `CSeq: ${spec.cseq ?? `1 ${method}`}`,
    ...(spec.extra ?? []),
  ];
  const cl = spec.contentLength ?? `Content-Length: ${Buffer.byteLength(body)}`;
  if (cl !== '') lines.push(cl);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

export interface UdpPeer {
  socket: UdpSocket;
  port: number;
  received: AsyncQueue<Buffer>;
  send(text: string | Buffer, port: number, address?: string): Promise<void>;
  close(): Promise<void>;
}

export async function udpPeer(address = '127.0.0.1'): Promise<UdpPeer> {
  const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const received = new AsyncQueue<Buffer>();
  socket.on('message', (b) => received.push(b));
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  return {
    socket,
    port: socket.address().port,
    received,
    send: (text, port, to = address) =>
      new Promise((resolve, reject) =>
        socket.send(text, port, to, (err) => (err ? reject(err) : resolve())),
      ),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

export interface TcpPeer {
  socket: Socket;
  /** Everything received so far, latin1. */
  text(): string;
  /** Waits until the received text satisfies `pred` (bounded by a deadline). */
  waitFor(pred: (text: string) => boolean, deadlineMs?: number): Promise<string>;
  closed: Promise<void>;
  write(text: string | Buffer): void;
}

export function wrapTcpPeer(socket: Socket): TcpPeer {
  let text = '';
  const watchers = new Set<() => void>();
  socket.on('data', (b: Buffer) => {
    text += b.toString('latin1');
    for (const w of [...watchers]) w();
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return {
    socket,
    text: () => text,
    closed,
    write: (t) => void socket.write(t),
    waitFor: (pred, deadlineMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pred(text)) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve(text);
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`waitFor: not satisfied; got ${JSON.stringify(text.slice(0, 300))}`));
        }, deadlineMs);
        watchers.add(check);
        check();
      }),
  };
}

export async function tcpPeer(port: number, host = '127.0.0.1'): Promise<TcpPeer> {
  const socket = connect({ port, host });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return wrapTcpPeer(socket);
}

/** Number of complete SIP start lines of responses in a stream text. */
export function countResponses(text: string, status?: number): number {
  const re =
    status === undefined ? /^SIP\/2\.0 \d{3} /gm : new RegExp(`^SIP/2\\.0 ${status} `, 'gm');
  return (text.match(re) ?? []).length;
}

/** Parses text the test wrote itself; throws when the message layer refuses it. */
export function parseRequestText(text: string): SipRequest {
  const r = parseMessage(Buffer.from(text, 'latin1'));
  if (!r.ok || r.message.kind !== 'request')
    throw new Error(`test request does not parse: ${r.ok ? 'response' : r.error.reason}`);
  return r.message;
}

/** Queues what a transport layer delivers. */
export function collect(tl: TransportLayer): AsyncQueue<IncomingMessage> {
  const q = new AsyncQueue<IncomingMessage>();
  tl.onMessage((m) => q.push(m));
  return q;
}
