/**
 * In-dialog requests that carry content from one party to the other: INFO (DTMF as
 * application/dtmf-relay or RFC 6086 info packages) and MESSAGE. The far leg's final status
 * answers the near leg's request.
 */
import type { IncomingRequest } from '@switchboard/sip-stack';
import type { Leg } from '../call/leg.js';
import { otherSide } from '../sdp/anchor-state.js';
import { respondSafely, type CallContext } from './call-context.js';

/** Headers that describe the content and cross with it (RFC 6086 §4.2.2 Info-Package). */
const CONTENT_HEADERS = [
  'Info-Package',
  'Content-Disposition',
  'Content-Language',
  'Content-Encoding',
];

export const RELAYED_METHODS = ['INFO', 'MESSAGE'] as const;

export class RequestRelay {
  readonly #ctx: CallContext;

  constructor(ctx: CallContext) {
    this.#ctx = ctx;
  }

  attach(leg: Leg): void {
    for (const method of RELAYED_METHODS)
      leg.dialog.onRequest(method, (req) => this.#relay(leg, req));
  }

  async #relay(leg: Leg, req: IncomingRequest): Promise<void> {
    const peer = this.#ctx.leg(otherSide(leg.side));
    if (this.#ctx.ended || peer === undefined || peer.ended) {
      respondSafely(req, 481);
      return;
    }
    const request = req.request;
    const contentType = request.headers.get('Content-Type');
    const headers: Record<string, string | readonly string[]> = {};
    for (const name of CONTENT_HEADERS) {
      const values = request.headers.getAll(name);
      if (values.length > 0) headers[name] = values;
    }
    const body = request.body.toString('utf8');
    if (req.method === 'INFO') this.#ctx.info(leg.side, contentType, body);
    try {
      const response = await peer.dialog.request(req.method, {
        headers,
        ...(request.body.length === 0 ? {} : { body: request.body }),
        ...(contentType === undefined ? {} : { contentType }),
      });
      respondSafely(req, response.status, { reason: response.reason });
    } catch {
      // No answer from the far leg (timeout) or it ended meanwhile.
      respondSafely(req, 408);
    }
  }
}
