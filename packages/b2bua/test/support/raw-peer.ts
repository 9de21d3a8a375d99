/**
 * A SIP peer on a bare UDP socket, for misbehaviour a real user agent would not show: no ACK,
 * a 200 after CANCEL, a request with a stale CSeq. Messages are built from text and every
 * message received is parsed and kept.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseMessage } from '@switchboard/sip-stack';
import type { SipMessage, SipRequest, SipResponse } from '@switchboard/sip-stack';
import type { Teardown } from './call-harness.js';

export class RawPeer {
  readonly received: SipMessage[] = [];
  /** Every message received, in order (never consumed by `next`). */
  readonly log: SipMessage[] = [];
  readonly #socket: Socket;
  #waiters: { match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (data) => {
      const parsed = parseMessage(data);
      if (!parsed.ok) return;
      this.received.push(parsed.message);
      this.log.push(parsed.message);
      for (const w of [...this.#waiters]) {
        if (w.match(parsed.message)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(parsed.message);
        }
      }
    });
  }

  static async open(t: Teardown): Promise<RawPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const peer = new RawPeer(socket);
    t.teardown(() => socket.close());
    return peer;
  }

  get port(): number {
    return this.#socket.address().port;
  }

  get hostport(): string {
    return `127.0.0.1:${this.port}`;
  }

  send(text: string, port: number): void {
    const [head = '', body = ''] = text.split('\r\n\r\n');
    const lines = head.split('\r\n').filter((l) => !/^Content-Length:/i.test(l));
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    this.#socket.send(`${lines.join('\r\n')}\r\n\r\n${body}`, port, '127.0.0.1');
  }

  /** The next message (already received or still to come) that `match` accepts. */
  next(match: (m: SipMessage) => boolean, deadlineMs = 5000): Promise<SipMessage> {
    const seen = this.received.find(match);
    if (seen !== undefined) {
      this.received.splice(this.received.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('no matching message before the deadline')),
        deadlineMs,
      );
      this.#waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }

  async request(method: string): Promise<SipRequest> {
    return (await this.next((m) => m.kind === 'request' && m.method === method)) as SipRequest;
  }

  async response(status: number, method?: string): Promise<SipResponse> {
    return (await this.next(
      (m) =>
        m.kind === 'response' &&
        m.status === status &&
        (method === undefined || m.cseq.method === method),
    )) as SipResponse;
  }

  count(match: (m: SipMessage) => boolean): number {
    return this.received.filter(match).length;
  }
}

/** A response to `req` as text: its Via, From, To (with `toTag`), Call-ID and CSeq copied. */
export function responseText(
  req: SipRequest,
  status: number,
  reason: string,
  options: { toTag?: string; contact?: string; body?: string; headers?: string[] } = {},
): string {
  const to = req.headers.get('To') ?? '';
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...req.headers.getAll('Via').map((v) => `Via: ${v}`),
    `From: ${req.headers.get('From') ?? ''}`,
    `To: ${options.toTag === undefined || /;tag=/.test(to) ? to : `${to};tag=${options.toTag}`}`,
    `Call-ID: ${req.callId}`,
    `CSeq: ${req.cseq.seq} ${req.cseq.method}`,
    ...(options.contact === undefined ? [] : [`Contact: ${options.contact}`]),
    ...(options.body === undefined ? [] : ['Content-Type: application/sdp']),
    ...(options.headers ?? []),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${options.body ?? ''}`;
}
