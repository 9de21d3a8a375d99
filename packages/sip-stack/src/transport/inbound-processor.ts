/**
 * From bytes to delivered messages: parse, stamp the top Via, deliver to the single handler, and
 * answer or drop what does not parse (DESIGN.md "Bad input"). Never throws.
 */
import { parseMessage } from '../message/parse-message.js';
import { createResponse } from '../message/build-response.js';
import type { SipParseError } from '../message/errors.js';
import type { SipRequest } from '../message/sip-message.js';
import type { Clock } from '../util/clock.js';
import type { TransportStats } from './transport-stats.js';
import type { Flow, MessageHandler, TransportLogger } from './transport.js';
import { stampReceived } from './via-stamping.js';

/** Sends bytes back over the flow a message came on (one function per kind of flow, not per message). */
export type Reply = (bytes: Buffer, flow: Flow) => Promise<void>;

export interface InboundContext {
  clock: Clock;
  stats: TransportStats;
  logger: TransportLogger;
  maxMessageSize: number;
}

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');

export class InboundProcessor {
  readonly #ctx: InboundContext;
  #handler: MessageHandler | undefined;

  constructor(ctx: InboundContext) {
    this.#ctx = ctx;
  }

  setHandler(handler: MessageHandler): void {
    this.#handler = handler;
  }

  /** One message worth of bytes (a datagram, a framed stream message, a WebSocket message). */
  process(bytes: Buffer, flow: Flow, reply: Reply, datagram: boolean): void {
    const { stats } = this.#ctx;
    stats.received[flow.protocol]++;
    let result;
    try {
      result = parseMessage(bytes, { maxSize: this.#ctx.maxMessageSize, datagram });
    } catch (err) {
      // The parser promises not to throw; if it ever does, the peer still cannot take us down.
      result = {
        ok: false as const,
        error: { code: 'SIP_ERR_PARSE' as const, reason: `parser threw: ${String(err)}` },
      };
    }
    if (!result.ok) {
      this.#onParseError(result.error, bytes, flow, reply);
      return;
    }
    const message = result.message;
    if (message.kind === 'request') stampReceived(message, flow.remote);
    this.#deliver(message, flow);
  }

  /**
   * A stream message whose Content-Length passes the size limit: answer 513 from its header block
   * when the start line and Via parse. Resolves true when answered.
   */
  async answerTooLarge(head: Buffer, flow: Flow, reply: Reply): Promise<boolean> {
    this.#ctx.stats.tooLarge++;
    const request = requestFromHead(head);
    if (request === undefined) {
      this.#ctx.stats.dropped++;
      return false;
    }
    // RFC 3261 §21.5.14: 513 Message Too Large.
    return this.#answer(request, 513, flow, reply);
  }

  #deliver(message: Parameters<MessageHandler>[0]['message'], flow: Flow): void {
    const handler = this.#handler;
    if (handler === undefined) {
      this.#ctx.stats.dropped++;
      return;
    }
    try {
      handler({ message, flow, receivedAt: this.#ctx.clock.now() });
    } catch (err) {
      this.#ctx.stats.handlerErrors++;
      this.#ctx.logger.error({ err, flowId: flow.flowId }, 'SIP message handler threw');
    }
  }

  #onParseError(error: SipParseError, bytes: Buffer, flow: Flow, reply: Reply): void {
    const { stats, logger } = this.#ctx;
    stats.parseErrors++;
    const tooLarge = error.code === 'SIP_ERR_TOO_LARGE';
    if (tooLarge) stats.tooLarge++;
    logger.debug(
      { code: error.code, reason: error.reason, flowId: flow.flowId, remote: flow.remote },
      'unparsable SIP message',
    );
    const request = error.request ?? (tooLarge ? requestFromHead(bytes) : undefined);
    if (request === undefined) {
      // DESIGN.md "Bad input": no start line and Via to answer to → count and drop.
      stats.dropped++;
      return;
    }
    void this.#answer(request, error.status ?? (tooLarge ? 513 : 400), flow, reply);
  }

  async #answer(request: SipRequest, status: number, flow: Flow, reply: Reply): Promise<boolean> {
    const { stats, logger } = this.#ctx;
    // RFC 3261 §17.1.1.3: an ACK is never answered.
    if (request.method === 'ACK') {
      stats.dropped++;
      return false;
    }
    try {
      stampReceived(request, flow.remote);
      await reply(createResponse(request, status).toBuffer(), flow);
      stats.errorResponsesSent++;
      return true;
    } catch (err) {
      stats.dropped++;
      logger.debug({ err, status, flowId: flow.flowId }, 'could not answer a bad request');
      return false;
    }
  }
}

/** A request built from just the header block of oversized bytes, or undefined. */
export function requestFromHead(bytes: Buffer): SipRequest | undefined {
  const end = bytes.indexOf(HEADER_END);
  if (end < 0) return undefined;
  try {
    const r = parseMessage(bytes.subarray(0, end + 4), {
      maxSize: Number.MAX_SAFE_INTEGER,
      datagram: true,
    });
    if (r.ok) return r.message.kind === 'request' ? r.message : undefined;
    return r.error.request;
  } catch {
    return undefined;
  }
}
