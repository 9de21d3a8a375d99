/**
 * A caller on a raw UDP socket (RawPeer) for what a well-behaved user agent never does: an ACK
 * carrying the answer of a delayed offer (or none), a second re-INVITE while the first is pending,
 * a UPDATE over its own re-INVITE. Messages are text; the dialog state is just enough for that.
 */
import type { SipResponse } from '@switchboard/sip-stack';
import { RawPeer, responseText } from './raw-peer.js';
import type { Teardown } from './call-harness.js';

let nextId = 1;

export interface RawCallerOptions {
  /** The B2BUA's URI and port. */
  uri: string;
  port: number;
}

export class RawCaller {
  readonly peer: RawPeer;
  readonly callId = `raw-caller-${nextId++}`;
  readonly #options: RawCallerOptions;
  #cseq = 0;
  /** The B2BUA's 2xx to our INVITE (To tag, Contact). */
  ok: SipResponse | undefined;

  private constructor(peer: RawPeer, options: RawCallerOptions) {
    this.peer = peer;
    this.#options = options;
  }

  static async open(t: Teardown, options: RawCallerOptions): Promise<RawCaller> {
    return new RawCaller(await RawPeer.open(t), options);
  }

  #send(lines: string[], body = '', contentType = 'application/sdp'): void {
    const head = [...lines, ...(body === '' ? [] : [`Content-Type: ${contentType}`])];
    this.peer.send(`${head.join('\r\n')}\r\n\r\n${body}`, this.#options.port);
  }

  #common(method: string, cseq: number, uri: string, to: string): string[] {
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.peer.hostport};branch=z9hG4bK-${this.callId}-${method}-${cseq};rport`,
      'Max-Forwards: 70',
      'From: "Raw" <sip:raw@127.0.0.1>;tag=rawtag',
      `To: ${to}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:raw@${this.peer.hostport}>`,
    ];
  }

  /** Sends the initial INVITE (no body = delayed offer). */
  invite(body = '', extra: string[] = []): void {
    this.#cseq = 1;
    const to = `<${this.#options.uri}>`;
    this.#send([...this.#common('INVITE', 1, this.#options.uri, to), ...extra], body);
  }

  /** The initial INVITE; resolves with the 2xx. */
  async call(body = '', extra: string[] = []): Promise<SipResponse> {
    this.invite(body, extra);
    this.ok = await this.peer.response(200, 'INVITE');
    return this.ok;
  }

  get #remoteTarget(): string {
    return this.ok?.contacts[0]?.uri ?? this.#options.uri;
  }

  get #to(): string {
    return this.ok?.headers.get('To') ?? `<${this.#options.uri}>`;
  }

  /** ACK for the INVITE with `cseq` (default the initial one), with an answer or without. */
  ack(body = '', cseq = 1): void {
    this.#send(this.#common('ACK', cseq, this.#remoteTarget, this.#to), body);
  }

  /** An in-dialog request; returns its CSeq number. */
  request(method: string, body = '', contentType = 'application/sdp'): number {
    const cseq = ++this.#cseq;
    this.#send(this.#common(method, cseq, this.#remoteTarget, this.#to), body, contentType);
    return cseq;
  }

  /** Answers the B2BUA's BYE with 200; resolves when it came. */
  async answerBye(): Promise<void> {
    const bye = await this.peer.request('BYE');
    this.peer.send(responseText(bye, 200, 'OK'), this.#options.port);
  }

  /** The final response to our request `method` with CSeq `cseq`. */
  async final(method: string, cseq: number): Promise<SipResponse> {
    return (await this.peer.next(
      (m) =>
        m.kind === 'response' && m.status >= 200 && m.cseq.method === method && m.cseq.seq === cseq,
    )) as SipResponse;
  }
}
