/**
 * Provisional responses of the callee relayed to the caller: ringing once, early media (183 with
 * SDP) rewritten through the relay and sent reliably to a caller that takes 100rel (RFC 3262).
 */
import type { EndpointLogger, IncomingRequest, SipResponse } from '@switchboard/sip-stack';
import type { MediaAnchor } from '../sdp/media-anchor.js';
import { hasSdp, supports100rel } from './call-helpers.js';
import { CallState } from './call-state.js';
import { ALLOW } from './outbound-request.js';

export interface ProgressHost {
  readonly caller: IncomingRequest;
  readonly media: MediaAnchor;
  readonly logger: EndpointLogger;
  readonly ended: boolean;
  /** The caller sent no offer: a callee's early SDP answers our own offer and stays here. */
  readonly delayedOffer: boolean;
  advance(state: CallState): void;
  progress(response: SipResponse): void;
}

const SDP = 'application/sdp';

export class CallerProgress {
  readonly #host: ProgressHost;
  #last = 0;

  constructor(host: ProgressHost) {
    this.#host = host;
  }

  /** A callee's provisional response. */
  relay(response: SipResponse): void {
    const host = this.#host;
    if (host.ended || host.caller.responded) return;
    // RFC 3261 §13.2.1: an offer may go to the caller only in a reliable response; with a delayed
    // offer the callee's early answer stays with us and the caller just hears progress.
    if (hasSdp(response) && !host.delayedOffer && this.#early(response)) return;
    if (response.status === this.#last) return; // one 180 is enough for the caller
    this.#send(response.status, {});
    if (response.status >= 180 && response.status <= 182) host.advance(CallState.Ringing);
    host.progress(response);
  }

  /** Early media: the provisional answer goes to the caller, the offer stays open for the 2xx. */
  #early(response: SipResponse): boolean {
    const host = this.#host;
    const answer = host.media.answer('b', response.body.toString('utf8'), true);
    if (!answer.ok) {
      host.logger.warn(
        { callId: host.caller.request.callId, reason: answer.reason },
        'early SDP refused',
      );
      return false;
    }
    // Early media toward a caller that takes 100rel goes reliably (RFC 3262), as from the callee.
    this.#send(response.status, {
      body: answer.sdp,
      contentType: SDP,
      reliable: supports100rel(host.caller),
    });
    host.advance(CallState.Early);
    host.progress(response);
    return true;
  }

  #send(status: number, options: { body?: string; contentType?: string; reliable?: boolean }) {
    this.#last = status;
    try {
      this.#host.caller.progress(status, { ...options, headers: { Allow: ALLOW } });
    } catch {
      // The caller was answered meanwhile (CANCEL → 487).
    }
  }
}
