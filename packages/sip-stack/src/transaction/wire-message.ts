import type { SipMessage } from '../message/sip-message.js';
import type { Flow, Target, TransportSender } from '../transport/transport.js';

/**
 * Optional capability of a transport: send bytes that were serialised once. When present,
 * retransmissions reuse one Buffer instead of serialising the message again.
 */
export interface BufferSender {
  sendBuffer(data: Buffer, target: Target): Promise<Flow>;
}

export type TransactionTransport = TransportSender & {
  sendBuffer?: BufferSender['sendBuffer'] | undefined;
};

/** The placeholder sent-by the transport replaces with its listening point. */
const PLACEHOLDER_HOST = '0.0.0.0';

/**
 * One message a transaction sends, possibly many times (requests, final responses, the ACK of a
 * non-2xx). The promise callbacks are bound once; the serialised bytes are taken once, after the
 * first send resolved (so the transport has filled the Via sent-by), and reused afterwards.
 */
export class WireMessage {
  #message: SipMessage | undefined;
  /** Drop the message once its bytes are taken (see `keepBytesOnly`). */
  #bytesOnly = false;
  /** The bytes as a latin1 string once compacted. */
  #kept: string | undefined;
  readonly #transport: TransactionTransport;
  #target: Target;
  #buffer: Buffer | undefined;
  #flow: Flow | undefined;
  /** The first send succeeded (the flow is known, or was dropped by `keepBytesOnly`). */
  #delivered = false;
  readonly #onError: (error: unknown) => void;
  readonly #onFlow: ((flow: Flow) => void) | undefined;

  readonly #sent = (flow: Flow): void => {
    if (!this.#delivered) {
      this.#delivered = true;
      this.#flow = flow;
      // Retransmissions go over the flow the first copy used (same socket; stream if §18.1.1 switched).
      this.#target = flowTarget(flow, this.#target);
      this.#onFlow?.(flow);
      if (this.#bytesOnly) this.#compact();
    }
  };

  readonly #failed = (error: unknown): void => {
    this.#onError(error);
  };

  constructor(
    transport: TransactionTransport,
    message: SipMessage,
    target: Target,
    onError: (error: unknown) => void,
    onFlow?: (flow: Flow) => void,
  ) {
    this.#transport = transport;
    this.#message = message;
    this.#target = target;
    this.#onError = onError;
    this.#onFlow = onFlow;
  }

  /** The message; undefined once only its bytes are kept (see `keepBytesOnly`). */
  get message(): SipMessage | undefined {
    return this.#message;
  }

  /**
   * Keep only the serialised bytes (as a flat latin1 string) after the first successful send, so a message that waits
   * for retransmissions (a final response in Completed, 32 s over UDP) does not hold the parsed
   * object. Takes effect only when the transport can send bytes (`sendBuffer`).
   */
  keepBytesOnly(): void {
    if (this.#transport.sendBuffer === undefined) return;
    this.#bytesOnly = true;
    if (this.#delivered) this.#compact();
  }

  /** The bytes as sent (or as the message serialises now), without sending. */
  bytes(): Buffer | undefined {
    if (this.#kept !== undefined) return Buffer.from(this.#kept, 'latin1');
    return this.#buffer ?? this.#message?.toBuffer();
  }

  /** The flow of the first successful send, once known (undefined again after `keepBytesOnly`). */
  get flow(): Flow | undefined {
    return this.#flow;
  }

  get target(): Target {
    return this.#target;
  }

  /** First transmission: the transport serialises (and fills a placeholder Via sent-by). */
  send(): void {
    const message = this.#message;
    if (message === undefined) {
      this.resend();
      return;
    }
    this.#dispatch(this.#transport.send(message, this.#target));
  }

  /** Retransmission: the same bytes again when the transport takes bytes, else the same message. */
  resend(): void {
    const sendBuffer = this.#transport.sendBuffer;
    if (sendBuffer !== undefined && this.#delivered) {
      if (this.#kept !== undefined) {
        // a retransmission arrived: the bytes become a Buffer again, reused from now on
        this.#buffer = Buffer.from(this.#kept, 'latin1');
        this.#kept = undefined;
      }
      const buffer = this.#buffer ?? this.#serialise();
      if (buffer !== undefined) {
        this.#dispatch(sendBuffer.call(this.#transport, buffer, this.#target));
        return;
      }
    }
    this.send();
  }

  #compact(): void {
    const buffer = this.#buffer ?? this.#serialise();
    if (buffer === undefined) return;
    // A flat latin1 copy of the bytes: no pooled Buffer slab stays alive for the wait.
    this.#kept = buffer.toString('latin1');
    this.#buffer = undefined;
    this.#message = undefined;
    this.#flow = undefined; // #target already names where retransmissions go
  }

  #serialise(): Buffer | undefined {
    const m = this.#message;
    if (m === undefined) return undefined;
    // A request whose Via still carries the placeholder was not rewritten in place: send the message.
    if (m.kind === 'request' && (m.topVia === undefined || m.topVia.host === PLACEHOLDER_HOST))
      return undefined;
    this.#buffer = m.toBuffer();
    return this.#buffer;
  }

  #dispatch(p: Promise<Flow>): void {
    p.then(this.#sent, this.#failed);
  }
}

function flowTarget(flow: Flow, previous: Target): Target {
  const t: Target = {
    protocol: flow.protocol,
    address: flow.remote.address,
    port: flow.remote.port,
  };
  if (flow.flowId !== undefined) t.flowId = flow.flowId;
  if (previous.serverName !== undefined) t.serverName = previous.serverName;
  return t;
}
