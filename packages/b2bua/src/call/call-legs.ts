/**
 * The legs of a call and what ties each to it: re-INVITE/UPDATE and INFO/MESSAGE relayed, REFER
 * handed to the transfer code, the leg's end reported. Once the call has ended, `release()` lets
 * go of the legs' dialogs: the SIP stack keeps a dialog's INVITE transaction a while after the
 * call (RFC 6026 Timers L and M, 32 s), and it must not keep the whole call alive with it.
 */
import type { DialogSession, IncomingRequest, TerminationReason } from '@switchboard/sip-stack';
import type { RelaySide } from '../media/media-relay.js';
import { respondSafely } from '../signalling/call-context.js';
import type { OfferRelay } from '../signalling/offer-relay.js';
import { RELAYED_METHODS, type RequestRelay } from '../signalling/request-relay.js';
import type { Leg } from './leg.js';

export interface CallLegsHost {
  readonly offers: OfferRelay;
  readonly requests: RequestRelay;
  /** A REFER on the leg of `side`. */
  refer(side: RelaySide, request: IncomingRequest): void;
  /** The dialog of an attached leg ended. */
  legEnded(leg: Leg, reason: TerminationReason): void;
}

/** Every method `attach` installs a handler for. */
const HANDLED = ['INVITE', 'UPDATE', ...RELAYED_METHODS, 'REFER'] as const;

/**
 * What each of those handlers answers once the call has ended (RFC 3261 §12.2.2: the dialog is
 * gone for us), without holding the call.
 */
const refuseEnded = (request: IncomingRequest): void => respondSafely(request, 481);

interface Attachment {
  dialog: DialogSession;
  onTerminated: (reason: TerminationReason) => void;
}

export class CallLegs {
  readonly #host: CallLegsHost;
  readonly #legs: Partial<Record<RelaySide, Leg>> = {};
  readonly #attached: Attachment[] = [];

  constructor(host: CallLegsHost) {
    this.#host = host;
  }

  get(side: RelaySide): Leg | undefined {
    return this.#legs[side];
  }

  /** The legs held now. */
  all(): Leg[] {
    return Object.values(this.#legs);
  }

  /** Forgets the leg of `side` if it is `leg` (it moved to another call). */
  remove(side: RelaySide, leg: Leg): void {
    if (this.#legs[side] === leg) delete this.#legs[side];
  }

  /** Makes `leg` the leg of its side: in-call requests relayed, its end reported. */
  attach(leg: Leg): void {
    const host = this.#host;
    this.#legs[leg.side] = leg;
    host.offers.attach(leg);
    host.requests.attach(leg);
    leg.dialog.onRequest('REFER', (req) => host.refer(leg.side, req));
    const onTerminated = (reason: TerminationReason): void => host.legEnded(leg, reason);
    leg.dialog.on('terminated', onTerminated);
    this.#attached.push({ dialog: leg.dialog, onTerminated });
  }

  /**
   * The call ended: the handlers of the legs it still holds answer 481 without it (as its own
   * did once it ended), and no dialog reports to it any more. A leg that moved to another call
   * keeps that call's handlers.
   */
  release(): void {
    for (const leg of this.all())
      for (const method of HANDLED) leg.dialog.onRequest(method, refuseEnded);
    for (const { dialog, onTerminated } of this.#attached) dialog.off('terminated', onTerminated);
    this.#attached.length = 0;
  }
}
