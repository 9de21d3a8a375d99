/** What the in-call signalling needs from its call (kept small so each part is testable alone). */
import type { Clock, EndpointLogger, IncomingRequest } from '@switchboard/sip-stack';
import type { CallEndReason } from '../call/call-types.js';
import type { Leg } from '../call/leg.js';
import type { RelaySide } from '../media/media-relay.js';
import type { MediaAnchor } from '../sdp/media-anchor.js';
import type { SessionTimer } from './session-timer.js';

export interface CallContext {
  readonly clock: Clock;
  readonly logger: EndpointLogger;
  readonly media: MediaAnchor;
  readonly ended: boolean;
  leg(side: RelaySide): Leg | undefined;
  timer(side: RelaySide): SessionTimer | undefined;
  /** An offer/answer exchange completed. */
  renegotiated(from: RelaySide): void;
  /** INFO crossed the call. */
  info(from: RelaySide, contentType: string | undefined, body: string): void;
  /** A REFER arrived on a leg (transfers); undefined answers 501. */
  refer?: ((from: RelaySide, request: IncomingRequest) => void) | undefined;
  end(reason: CallEndReason, side?: RelaySide): void;
}

/** Answers unless the request was answered already (e.g. the peer cancelled its re-INVITE). */
export function respondSafely(
  request: IncomingRequest,
  status: number,
  options: Parameters<IncomingRequest['respond']>[1] = {},
): void {
  if (request.responded) return;
  try {
    request.respond(status, options);
  } catch {
    // Answered meanwhile (CANCEL → 487): nothing more to say.
  }
}

/** 500 with Retry-After (RFC 3261 §14.2): a transient refusal the peer may retry. */
export function retryLater(request: IncomingRequest, seconds = 1): void {
  respondSafely(request, 500, { headers: { 'Retry-After': String(seconds) } });
}
