/**
 * Offers inside a confirmed call, both directions: a re-INVITE or UPDATE with SDP from one leg is
 * rewritten through the relay and sent to the other leg; its answer comes back the same way
 * (RFC 3264 §8, RFC 3311). A repeated description is a session refresh answered locally; an
 * offerless re-INVITE is answered with our offer and its answer read from the ACK.
 */
import { EndpointError, type IncomingRequest, type SipResponse } from '@switchboard/sip-stack';
import type { Leg } from '../call/leg.js';
import { otherSide } from '../sdp/anchor-state.js';
import type { CallContext } from './call-context.js';
import { respondSafely, retryLater } from './call-context.js';
import { answerHeaders, refreshHeaders, uacSettings } from './session-timer.js';
import { mediaWarning } from '../call/check-invite.js';

const SDP = 'application/sdp';

function isSdp(request: IncomingRequest): boolean {
  const type = request.request.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  return type === SDP;
}

export class OfferRelay {
  readonly #ctx: CallContext;

  constructor(ctx: CallContext) {
    this.#ctx = ctx;
  }

  /** Installs the re-INVITE and UPDATE handlers on a leg's dialog. */
  attach(leg: Leg): void {
    leg.dialog.onRequest('INVITE', (req) => this.#onOffer(leg, req, 'INVITE'));
    leg.dialog.onRequest('UPDATE', (req) => this.#onOffer(leg, req, 'UPDATE'));
  }

  /** Session-timer headers for a 2xx to `leg`'s request, and the timer restarted. */
  #refreshedHeaders(leg: Leg): Record<string, string | readonly string[]> {
    const timer = this.#ctx.timer(leg.side);
    if (timer === undefined) return {};
    timer.refreshed();
    return { ...answerHeaders(timer.settings) };
  }

  async #onOffer(leg: Leg, req: IncomingRequest, method: 'INVITE' | 'UPDATE'): Promise<void> {
    const peer = this.#ctx.leg(otherSide(leg.side));
    if (this.#ctx.ended || peer === undefined || peer.ended) {
      respondSafely(req, 481);
      return;
    }
    const body = req.request.body.toString('utf8');
    if (body === '') {
      if (method === 'UPDATE') respondSafely(req, 200, { headers: this.#refreshedHeaders(leg) });
      else this.#offerless(leg, req);
      return;
    }
    if (!isSdp(req)) {
      respondSafely(req, 415, { headers: { Accept: SDP } });
      return;
    }
    const same = this.#ctx.media.unchangedOffer(leg.side, body);
    if (same !== undefined) {
      // RFC 3264 §8: the same description again is a refresh; the peer leg need not know.
      this.#answer(req, method, same, this.#refreshedHeaders(leg));
      return;
    }
    // RFC 3311 §5.2 / RFC 3261 §14.2: an offer while this side's own offer awaits its answer
    // gets 500 with Retry-After; while the other side's offer is pending, 491 (glare).
    if (this.#ctx.media.pendingFrom === leg.side) {
      retryLater(req);
      return;
    }
    const offer = await this.#ctx.media.offer(leg.side, body);
    if (!offer.ok) {
      if (offer.status === 503) retryLater(req);
      else
        respondSafely(req, offer.status, {
          reason: offer.reason,
          ...(offer.status === 488
            ? { headers: mediaWarning(488, offer.reason, offer.warning) }
            : {}),
        });
      return;
    }
    const response = await this.#forward(peer, method, offer.sdp);
    this.#finish(leg, peer, req, method, response);
  }

  /** Sends the offer to the peer leg: UPDATE only when it takes UPDATE, else re-INVITE. */
  async #forward(
    peer: Leg,
    method: 'INVITE' | 'UPDATE',
    sdp: string,
  ): Promise<SipResponse | number> {
    const timer = this.#ctx.timer(peer.side);
    const headers = timer === undefined ? {} : refreshHeaders(timer.settings);
    const send = (m: 'INVITE' | 'UPDATE'): Promise<SipResponse> => peer.sendOffer(m, sdp, headers);
    try {
      let response = await send(method === 'UPDATE' && peer.acceptsUpdate ? 'UPDATE' : 'INVITE');
      // RFC 3311 §5.1: a peer that does not know UPDATE gets the offer in a re-INVITE.
      if (response.status === 405 || response.status === 501) response = await send('INVITE');
      return response;
    } catch (err) {
      // An INVITE of ours is still in progress on that leg (RFC 3261 §14.1): glare → 491.
      if (err instanceof EndpointError && err.code === 'SIP_ERR_ENDPOINT_STATE') return 491;
      return 408;
    }
  }

  #finish(
    leg: Leg,
    peer: Leg,
    req: IncomingRequest,
    method: 'INVITE' | 'UPDATE',
    response: SipResponse | number,
  ): void {
    const media = this.#ctx.media;
    if (typeof response === 'number' || response.status >= 300) {
      media.rollback();
      // RFC 3261 §14.1: a 491 goes back to the offerer, which retries on its own timer.
      const status = typeof response === 'number' ? response : response.status;
      respondSafely(req, status, typeof response === 'number' ? {} : { reason: response.reason });
      return;
    }
    const body = response.body.toString('utf8');
    const answer = body === '' ? undefined : media.answer(peer.side, body);
    if (answer === undefined || !answer.ok) {
      media.rollback();
      respondSafely(req, 488, { reason: answer?.ok === false ? answer.reason : 'no answer' });
      return;
    }
    const peerTimer = this.#ctx.timer(peer.side);
    peerTimer?.refreshed(uacSettings(response) ?? peerTimer.settings);
    this.#answer(req, method, answer.sdp, this.#refreshedHeaders(leg));
    this.#ctx.renegotiated(leg.side);
  }

  #answer(
    req: IncomingRequest,
    method: 'INVITE' | 'UPDATE',
    sdp: string,
    headers: Record<string, string | readonly string[]>,
  ): void {
    if (req.responded) return;
    try {
      if (method === 'INVITE') req.accept({ body: sdp, contentType: SDP, headers });
      else req.respond(200, { body: sdp, contentType: SDP, headers });
    } catch {
      // Cancelled meanwhile: the offerer keeps its old session.
    }
  }

  /** RFC 3264 §5: an offerless re-INVITE gets our offer in the 2xx; the answer is in the ACK. */
  #offerless(leg: Leg, req: IncomingRequest): void {
    const media = this.#ctx.media;
    const offer = media.reoffer(leg.side);
    if (!offer.ok) {
      if (offer.status === 491) respondSafely(req, 491);
      else retryLater(req);
      return;
    }
    const onAck = (ack: { body: Buffer }): void => {
      const answer =
        ack.body.length === 0 ? undefined : media.answer(leg.side, ack.body.toString('utf8'));
      if (answer === undefined || !answer.ok) media.rollback();
    };
    leg.dialog.once('ack', onAck);
    this.#answer(req, 'INVITE', offer.sdp, this.#refreshedHeaders(leg));
    if (!req.responded || (req.finalResponse?.status ?? 0) >= 300) {
      leg.dialog.off('ack', onAck);
      media.rollback();
    }
  }
}
