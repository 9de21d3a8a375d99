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
  readonly message: SipMessage;
  readonly #transport: TransactionTransport;
  #target: Target;
  #buffer: Buffer | undefined;
  #flow: Flow | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #onFlow: ((flow: Flow) => void) | undefined;

  readonly #sent = (flow: Flow): void => {
    if (this.#flow === undefined) {
      this.#flow = flow;
      // Retransmissions go over the flow the first copy used (same socket; stream if §18.1.1 switched).
      this.#target = flowTarget(flow, this.#target);
      this.#onFlow?.(flow);
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
    this.message = message;
    this.#target = target;
    this.#onError = onError;
    this.#onFlow = onFlow;
  }

  /** The flow of the first successful send, once known. */
  get flow(): Flow | undefined {
    return this.#flow;
  }

  get target(): Target {
    return this.#target;
  }

  /** First transmission: the transport serialises (and fills a placeholder Via sent-by). */
  send(): void {
    this.#dispatch(this.#transport.send(this.message, this.#target));
  }

  /** Retransmission: the same bytes again when the transport takes bytes, else the same message. */
  resend(): void {
    const sendBuffer = this.#transport.sendBuffer;
    if (sendBuffer !== undefined && this.#flow !== undefined) {
      const buffer = this.#buffer ?? this.#serialise();
      if (buffer !== undefined) {
        this.#dispatch(sendBuffer.call(this.#transport, buffer, this.#target));
        return;
      }
    }
    this.send();
  }

  #serialise(): Buffer | undefined {
    const m = this.message;
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
