import type { SipMessage } from '../message/sip-message.js';
import { settleReport } from '../transport/transport.js';
import type { Flow, ReportingSender, SendReport, Target } from '../transport/transport.js';

/**
 * Optional capability of a transport: send bytes that were serialised once. When present,
 * retransmissions reuse one Buffer instead of serialising the message again. Like `send`, it may
 * report to `report` (returning undefined) instead of returning a promise.
 */
export interface BufferSender {
  sendBuffer(data: Buffer, target: Target, report?: SendReport): Promise<Flow> | undefined;
}

/**
 * The transport as transactions see it: the TransportLayer, or anything with `send(message,
 * target)` returning a promise (a third `report` argument may be ignored).
 */
export type TransactionTransport = ReportingSender & {
  sendBuffer?: BufferSender['sendBuffer'] | undefined;
};

/** The transaction a wire message belongs to: told of failed sends and of the first flow. */
export interface WireOwner {
  /** A send failed (RFC 3261 §17.1.4, §17.2.4). */
  receiveTransportError(cause: unknown): void;
  /** @internal The first send went out over `flow` (§18.1.1 may have moved it to a stream). */
  wireFlow?(flow: Flow): void;
  /**
   * @internal With `keepBytesOnly`: the first send went out and these are its bytes (latin1) and
   * where retransmissions go. An owner that takes them keeps them itself and lets the wire
   * message go (see `WireMessage.fromBytes`); otherwise the wire message keeps them.
   */
  wireKept?(bytes: string, target: Target): void;
  /**
   * @internal With `keepBytesOnly`: the bytes of the first send, told synchronously before they
   * go out (UDP), and where retransmissions would go. True when the owner stored them itself:
   * the wire message then keeps nothing and tells no `wireKept`.
   */
  wireEncoded?(bytes: Buffer, target: Target): boolean;
}

/** The placeholder sent-by the transport replaces with its listening point. */
const PLACEHOLDER_HOST = '0.0.0.0';

/**
 * One message a transaction sends, possibly many times (requests, final responses, the ACK of a
 * non-2xx). It takes the outcome of its own sends (SendReport): no promise or closure per send.
 * The bytes of the first successful send are what it keeps when asked to (`keepBytesOnly`).
 */
export class WireMessage implements SendReport {
  #message: SipMessage | undefined;
  /** Drop the message once its bytes are taken (see `keepBytesOnly`). */
  #bytesOnly = false;
  /** Keep the Buffer the transport sent (see `keepSentBytes`). */
  #keepSent = false;
  /** The bytes as a latin1 string once compacted. */
  #kept: string | undefined;
  readonly #transport: TransactionTransport;
  #target: Target;
  #buffer: Buffer | undefined;
  #flow: Flow | undefined;
  /** The first send succeeded (the flow is known, or was dropped by `keepBytesOnly`). */
  #delivered = false;
  /** The owner stored the bytes of the first send (see `WireOwner.wireEncoded`). */
  #taken = false;
  /** The transaction (no closure per message: the owner is told directly). */
  readonly #owner: WireOwner;

  constructor(
    transport: TransactionTransport,
    message: SipMessage | undefined,
    target: Target,
    owner: WireOwner,
  ) {
    this.#transport = transport;
    this.#message = message;
    this.#target = target;
    this.#owner = owner;
  }

  /**
   * A message that was sent before and is now only bytes (see `WireOwner.wireKept`): `resend`
   * sends them again, as one Buffer reused for every retransmission.
   */
  static fromBytes(
    transport: TransactionTransport,
    bytes: string | Buffer,
    target: Target,
    owner: WireOwner,
  ): WireMessage {
    const wire = new WireMessage(transport, undefined, target, owner);
    wire.#delivered = true;
    wire.#buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    return wire;
  }

  /** The message; undefined once only its bytes are kept (see `keepBytesOnly`). */
  get message(): SipMessage | undefined {
    return this.#message;
  }

  /**
   * Keep only the serialised bytes (as a flat latin1 string) after the first successful send, so
   * a message that waits for retransmissions (a final response in Completed, 32 s over UDP) does
   * not hold the parsed object. Takes effect only when the transport can send bytes
   * (`sendBuffer`). Called before `send`, the bytes the transport sent are kept as they are.
   */
  keepBytesOnly(): void {
    if (this.#transport.sendBuffer === undefined) return;
    this.#bytesOnly = true;
    if (this.#delivered) this.#compact(undefined);
  }

  /**
   * Keep the Buffer of the first successful send (the transport reports it): retransmissions
   * reuse it and a later `keepBytesOnly` takes it, so the message is never serialised again.
   * The Buffer may be a slice of a pooled slab: for messages that are compacted soon after.
   */
  keepSentBytes(): void {
    this.#keepSent = true;
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
    settleReport(this.#transport.send(message, this.#target, this), this);
  }

  /** Retransmission: the same bytes again when the transport takes bytes, else the same message. */
  resend(): void {
    if (this.#taken) return; // retransmissions are the owner's (it holds the bytes)
    const transport = this.#transport;
    if (transport.sendBuffer !== undefined && this.#delivered) {
      if (this.#kept !== undefined) {
        // a retransmission arrived: the bytes become a Buffer again, reused from now on
        this.#buffer = Buffer.from(this.#kept, 'latin1');
        this.#kept = undefined;
      }
      const buffer = this.#buffer ?? this.#serialise();
      if (buffer !== undefined) {
        settleReport(transport.sendBuffer(buffer, this.#target, this), this);
        return;
      }
    }
    this.send();
  }

  /** SendReport: the bytes of a send about to go out over `flow` (UDP, within `send`). */
  encoded(bytes: Buffer, flow: Flow): void {
    const owner = this.#owner;
    if (!this.#bytesOnly || this.#delivered || this.#taken || owner.wireEncoded === undefined)
      return;
    const target = sameFlow(this.#target, flow) ? this.#target : flowTarget(flow, this.#target);
    if (owner.wireEncoded(bytes, target)) {
      this.#taken = true;
      this.#message = undefined;
    }
  }

  /** SendReport: a send of this message went out (only the first one matters). */
  sent(flow: Flow, bytes?: Buffer): void {
    if (this.#delivered) return;
    this.#delivered = true;
    if (this.#taken) return; // the owner holds the bytes
    this.#flow = flow;
    // Retransmissions go over the flow the first copy used (same socket; stream if §18.1.1 switched).
    if (!sameFlow(this.#target, flow)) this.#target = flowTarget(flow, this.#target);
    this.#owner.wireFlow?.(flow);
    if (this.#keepSent && bytes !== undefined) this.#buffer ??= bytes;
    if (this.#bytesOnly) this.#compact(bytes);
  }

  /** SendReport: a send of this message failed. */
  failed(error: unknown): void {
    this.#owner.receiveTransportError(error);
  }

  /** `sent`: the bytes the transport sent, when it told them (no second serialisation). */
  #compact(sent: Buffer | undefined): void {
    const buffer = this.#buffer ?? sent ?? this.#serialise();
    if (buffer === undefined) return;
    // A flat latin1 copy of the bytes: no pooled Buffer slab stays alive for the wait.
    const kept = buffer.toString('latin1');
    this.#buffer = undefined;
    this.#message = undefined;
    this.#flow = undefined; // #target already names where retransmissions go
    if (this.#owner.wireKept !== undefined) this.#owner.wireKept(kept, this.#target);
    else this.#kept = kept;
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
}

/** The target already names the flow (the usual UDP response: rport and the receiving socket). */
function sameFlow(target: Target, flow: Flow): boolean {
  return (
    target.flowId !== undefined &&
    target.flowId === flow.flowId &&
    target.protocol === flow.protocol &&
    target.port === flow.remote.port &&
    target.address === flow.remote.address
  );
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
