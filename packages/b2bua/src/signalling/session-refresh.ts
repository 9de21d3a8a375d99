/**
 * Refreshes we send ourselves (RFC 4028 §10 when we are the refresher): a re-INVITE repeating the
 * description the leg last got from us, retried after 491 on the RFC 3261 §14.1 timers. A refresh
 * that fails ends the call before the session would expire anyway.
 */
import type { SipResponse } from '@switchboard/sip-stack';
import type { Leg } from '../call/leg.js';
import type { CallContext } from './call-context.js';
import { withGlareRetry } from './glare-retry.js';
import { refreshHeaders, uacSettings } from './session-timer.js';

/** A response, or a local outcome (glare with our own INVITE, nothing to offer) as a status. */
interface Attempt {
  status: number;
  response?: SipResponse;
}

export class SessionRefresh {
  readonly #ctx: CallContext;

  constructor(ctx: CallContext) {
    this.#ctx = ctx;
  }

  /** Sends one refresh to `leg`; resolves true when it succeeded. */
  async refresh(leg: Leg): Promise<boolean> {
    const timer = this.#ctx.timer(leg.side);
    if (timer === undefined || this.#ctx.ended || leg.ended) return false;
    const response = await withGlareRetry(() => this.#attempt(leg), {
      clock: this.#ctx.clock,
      ownsCallId: leg.ownsCallId,
      cancelled: () => this.#ctx.ended || leg.ended,
    });
    if (response.response !== undefined && response.status < 300) {
      timer.refreshed(uacSettings(response.response) ?? timer.settings);
      return true;
    }
    this.#ctx.logger.info(
      { callId: leg.callId, status: response.status },
      'session refresh failed: ending the call',
    );
    this.#ctx.end('session-expired', leg.side);
    return false;
  }

  /** One re-INVITE (or a local 491-like failure) with the media exchange settled either way. */
  async #attempt(leg: Leg): Promise<Attempt> {
    const media = this.#ctx.media;
    const timer = this.#ctx.timer(leg.side);
    const headers = timer === undefined ? {} : refreshHeaders(timer.settings);
    const offer = media.reoffer(leg.side);
    if (!offer.ok) return { status: offer.status === 491 ? 491 : 500 };
    let response: SipResponse;
    try {
      response = await leg.sendOffer('INVITE', offer.sdp, headers);
    } catch {
      media.rollback();
      // Our own INVITE collided with one in progress on the leg: treat as glare.
      return { status: leg.ended ? 481 : 491 };
    }
    if (response.status >= 200 && response.status < 300 && response.body.length > 0) {
      const answer = media.answer(leg.side, response.body.toString('utf8'));
      if (!answer.ok) media.rollback();
    } else {
      media.rollback();
    }
    return { status: response.status, response };
  }
}
