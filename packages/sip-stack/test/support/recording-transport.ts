/**
 * A fake TransportSender that records every send. Sends resolve (or reject) on a microtask, like
 * the real transport; `failNext()` / `failAll` make sends reject with a TransportError.
 */
import type { SipMessage } from '../../src/message/sip-message.js';
import { TransportError } from '../../src/transport/transport-error.js';
import type { Flow, Target, TransportSender } from '../../src/transport/transport.js';

export interface SentRecord {
  /** The message object handed over (for buffer sends: undefined). */
  message: SipMessage | undefined;
  /** The bytes on the wire. */
  data: Buffer;
  target: Target;
  /** true when sent through `sendBuffer` (a reused serialisation). */
  raw: boolean;
}

export interface RecordingTransportOptions {
  /** Offer `sendBuffer` (retransmissions reuse bytes). Default true. */
  sendBuffer?: boolean;
  /** Local endpoint reported in flows. */
  local?: { address: string; port: number };
  /** Protocol reported in the flow of every send (to model the §18.1.1 UDP → TCP switch). */
  flowProtocol?: Flow['protocol'];
}

export class RecordingTransport implements TransportSender {
  readonly sent: SentRecord[] = [];
  failAll = false;
  #failures = 0;
  readonly #local: { address: string; port: number };
  readonly #flowProtocol: Flow['protocol'] | undefined;
  readonly sendBuffer: ((data: Buffer, target: Target) => Promise<Flow>) | undefined;

  constructor(options: RecordingTransportOptions = {}) {
    this.#local = options.local ?? { address: '127.0.0.1', port: 5060 };
    this.#flowProtocol = options.flowProtocol;
    this.sendBuffer =
      options.sendBuffer === false
        ? undefined
        : (data, target) => this.#record(undefined, data, target, true);
  }

  /** The next `count` sends reject. */
  failNext(count = 1): void {
    this.#failures += count;
  }

  send(message: SipMessage, target: Target): Promise<Flow> {
    // Like the transport layer: fill a placeholder Via sent-by in place before serialising.
    const via = message.kind === 'request' ? message.topVia : undefined;
    if (via !== undefined && via.host === '0.0.0.0') {
      const transport = (this.#flowProtocol ?? target.protocol).toUpperCase();
      const rest = message.headers.get('Via')?.split(';').slice(1).join(';') ?? '';
      message.setTopVia(`SIP/2.0/${transport} ${this.#local.address}:${this.#local.port};${rest}`);
    }
    return this.#record(message, message.toBuffer(), target, false);
  }

  /** Messages handed to `send` or bytes to `sendBuffer`, as text start lines ("INVITE sip:..", "SIP/2.0 100 Trying"). */
  startLines(): string[] {
    return this.sent.map((s) => s.data.toString('latin1').split('\r\n', 1)[0] ?? '');
  }

  clear(): void {
    this.sent.length = 0;
  }

  #record(
    message: SipMessage | undefined,
    data: Buffer,
    target: Target,
    raw: boolean,
  ): Promise<Flow> {
    this.sent.push({ message, data, target, raw });
    if (this.failAll || this.#failures > 0) {
      if (this.#failures > 0) this.#failures--;
      return Promise.reject(new TransportError('SIP_ERR_SEND', 'recording transport: send failed'));
    }
    const flow: Flow = {
      protocol: this.#flowProtocol ?? target.protocol,
      local: { ...this.#local },
      remote: { address: target.address, port: target.port },
    };
    if (target.flowId !== undefined) flow.flowId = target.flowId;
    return Promise.resolve(flow);
  }
}

/** Lets pending promise callbacks (send results) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
