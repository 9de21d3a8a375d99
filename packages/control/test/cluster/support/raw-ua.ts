/** A SIP user agent made of raw sockets, so a test decides where every message goes. */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import {
  DigestClient,
  createRequest,
  createResponse,
  generateBranch,
  generateTag,
  parseMessage,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '@switchboard/sip-stack';

export const DOMAIN = 'demo.switchboard.test';

/** Messages in arrival order with a bounded wait for the next one matching a filter. */
class Inbox {
  readonly #items: SipMessage[] = [];
  readonly #waiters = new Set<() => void>();

  push(m: SipMessage): void {
    this.#items.push(m);
    for (const w of [...this.#waiters]) w();
  }

  next<T extends SipMessage>(pred: (m: SipMessage) => boolean, deadlineMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const i = this.#items.findIndex(pred);
        if (i < 0) return;
        const [m] = this.#items.splice(i, 1);
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(m as T);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error('raw UA: expected message did not arrive'));
      }, deadlineMs);
      this.#waiters.add(check);
      check();
    });
  }
}

export class RawUa {
  readonly inbox = new Inbox();
  readonly user: string;
  readonly password: string;
  readonly protocol: 'udp' | 'tcp';
  readonly #udp: UdpSocket | undefined;
  readonly #tcp: Socket | undefined;
  readonly #digest = new DigestClient();
  #tcpBuf = '';

  private constructor(user: string, password: string, udp?: UdpSocket, tcp?: Socket) {
    this.user = user;
    this.password = password;
    this.#udp = udp;
    this.#tcp = tcp;
    this.protocol = tcp === undefined ? 'udp' : 'tcp';
    udp?.on('message', (b) => this.#receive(b));
    tcp?.on('data', (b: Buffer) => this.#onTcp(b));
    tcp?.on('error', () => undefined);
  }

  static async udp(user: string, password: string): Promise<RawUa> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    return new RawUa(user, password, s);
  }

  /** A UA whose only transport is one TCP connection to `port`. */
  static async tcp(user: string, password: string, port: number): Promise<RawUa> {
    const s = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    return new RawUa(user, password, undefined, s);
  }

  get port(): number {
    return this.#udp?.address().port ?? this.#tcp?.localPort ?? 0;
  }

  get via(): string {
    return `SIP/2.0/${this.protocol.toUpperCase()} 127.0.0.1:${this.port};branch=${generateBranch()};rport`;
  }

  /** Sends to the worker's port (UDP) or over the connection (TCP). */
  send(m: SipMessage, port: number): void {
    const bytes = m.toBuffer();
    if (this.#tcp !== undefined) this.#tcp.write(bytes);
    else this.#udp?.send(bytes, port, '127.0.0.1');
  }

  request(
    method: string,
    to: string,
    callId: string,
    cseq: number,
    extra: Record<string, string> = {},
    body?: string,
  ): SipRequest {
    return createRequest({
      method,
      uri: `sip:${to}@${DOMAIN}`,
      from: `<sip:${this.user}@${DOMAIN}>;tag=${generateTag()}`,
      to: `<sip:${to}@${DOMAIN}>`,
      callId,
      cseq,
      via: [this.via],
      contact: `<sip:${this.user}@127.0.0.1:${this.protocol === 'tcp' ? 5999 : this.port};transport=${this.protocol}>`,
      headers: extra,
      ...(body === undefined ? {} : { body, contentType: 'application/sdp' }),
    });
  }

  /** The request again with credentials for the challenge (new branch, CSeq + 1). */
  authorize(request: SipRequest, challenge: SipResponse): SipRequest {
    const r = this.#digest.authorize(request, challenge, {
      username: this.user,
      password: this.password,
    });
    if (!r.ok) throw new Error(`cannot authorize: ${r.detail}`);
    const req = r.request;
    const top = req.topVia;
    if (top !== undefined) req.setTopVia(this.via);
    return req;
  }

  response(
    callId: string,
    cseqMethod: string,
    status?: (s: number) => boolean,
  ): Promise<SipResponse> {
    return this.inbox.next<SipResponse>(
      (m) =>
        m.kind === 'response' &&
        m.callId === callId &&
        m.cseq.method === cseqMethod &&
        (status === undefined || status(m.status)),
    );
  }

  requestIn(method: string, callId?: string): Promise<SipRequest> {
    return this.inbox.next<SipRequest>(
      (m) =>
        m.kind === 'request' &&
        m.method === method &&
        (callId === undefined || m.callId === callId),
    );
  }

  reply(
    request: SipRequest,
    status: number,
    port: number,
    toTag?: string,
    body?: string,
  ): SipResponse {
    const r = createResponse(request, status, undefined, {
      ...(toTag === undefined ? {} : { toTag }),
      ...(body === undefined ? {} : { body, contentType: 'application/sdp' }),
      headers:
        status < 300 && status > 100
          ? { Contact: `<sip:${this.user}@127.0.0.1:${this.port}>` }
          : {},
    });
    this.send(r, port);
    return r;
  }

  close(): void {
    this.#udp?.close();
    this.#tcp?.destroy();
  }

  #receive(bytes: Buffer): void {
    const r = parseMessage(bytes, { datagram: this.protocol === 'udp' });
    if (r.ok) this.inbox.push(r.message);
  }

  #onTcp(chunk: Buffer): void {
    this.#tcpBuf += chunk.toString('latin1');
    for (;;) {
      const end = this.#tcpBuf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const cl = Number(
        /\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(this.#tcpBuf.slice(0, end))?.[1] ?? '0',
      );
      if (this.#tcpBuf.length < end + 4 + cl) return;
      const one = this.#tcpBuf.slice(0, end + 4 + cl);
      this.#tcpBuf = this.#tcpBuf.slice(end + 4 + cl);
      this.#receive(Buffer.from(one, 'latin1'));
    }
  }
}

/** REGISTER with the digest round trip; resolves with the 200. */
export async function registerUa(ua: RawUa, port: number, callId: string): Promise<SipResponse> {
  const req = ua.request('REGISTER', ua.user, callId, 1, { Expires: '300' });
  req.uri = `sip:${DOMAIN}`;
  ua.send(req, port);
  const challenge = await ua.response(callId, 'REGISTER', (s) => s === 401);
  ua.send(ua.authorize(req, challenge), port);
  return ua.response(callId, 'REGISTER', (s) => s >= 200);
}
