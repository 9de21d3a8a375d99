/**
 * Attended transfer completed inside the B2BUA: the transferor refers its party to the other call
 * it has through us, with a Replaces naming its own leg of that call (RFC 3891 §3 matching: Call-ID,
 * to-tag = our tag, from-tag = the transferor's). Rather than send a new INVITE, the two remaining
 * legs are joined: the relay sessions are spliced so both keep their ports and hear no re-INVITE,
 * the transferor's two legs get BYE, and the NOTIFYs report the outcome (RFC 3515 §2.4.4).
 */
import type { IncomingRequest } from '@switchboard/sip-stack';
import type { Leg } from '../call/leg.js';
import type { RelaySide } from '../media/media-relay.js';
import type { MediaAnchor } from '../sdp/media-anchor.js';
import { respondSafely } from '../signalling/call-context.js';
import type { ReferTarget } from './refer-to.js';
import type { Notifier, TransferHost } from './transfer.js';

/** What the other call gives up when its remaining party is joined into this one. */
export interface JoinDonor {
  readonly media: MediaAnchor;
  /** The transfer target's leg, and its side in the other call. */
  readonly leg: Leg;
  readonly side: RelaySide;
  /** Takes the leg out of the other call and ends that call ('replaced'); the transferor's leg there gets BYE. */
  surrender(): void;
}

/** A dialog of ours named by Replaces. */
export interface ReplacedCall {
  /** The dialog belongs to the call the REFER came in on. */
  readonly self: boolean;
  /** That call is answered (RFC 3891 early-only refuses it). */
  readonly confirmed: boolean;
  /** Undefined when that call cannot give its party now (not answered, busy, ending). */
  readonly donor: JoinDonor | undefined;
}

export interface JoinRequest {
  host: TransferHost;
  /** The transferor's side in this call. */
  side: RelaySide;
  refer: IncomingRequest;
  target: ReferTarget;
  earlyOnly: boolean;
  replaced: ReplacedCall;
  notify: Notifier;
}

/** The final status of a join that cannot be done, or undefined when it can be tried. */
function refusal(request: JoinRequest): { status: number; reason: string } | undefined {
  const { replaced, earlyOnly } = request;
  // RFC 3891 §3: early-only and the dialog is confirmed → 486 Busy Here.
  if (earlyOnly && replaced.confirmed) return { status: 486, reason: 'Busy Here' };
  // RFC 3891 §3: no dialog we can replace → 481.
  if (replaced.donor === undefined)
    return { status: 481, reason: 'Call/Transaction Does Not Exist' };
  return undefined;
}

/** Runs the join; the REFER was already checked (one transfer at a time, no offer pending). */
export async function joinCalls(request: JoinRequest): Promise<void> {
  const { host, side, target, notify } = request;
  // RFC 3515 §2.4.2: accepted; the outcome follows in NOTIFY.
  respondSafely(request.refer, 202);
  void notify(100, 'Trying', false);
  const refused = refusal(request);
  const donor = request.replaced.donor;
  if (refused !== undefined || donor === undefined) {
    const final = refused ?? { status: 481, reason: 'Call/Transaction Does Not Exist' };
    await notify(final.status, final.reason, true);
    host.transferred({ side, target: target.uri, status: final.status, joined: false });
    return;
  }
  const joined = host.media.join(side, donor.media, donor.side);
  if (!joined.ok) {
    host.logger.info({ reason: joined.reason }, 'attended transfer: calls cannot be joined');
    // RFC 3261 §21.4.26: the parties' media cannot meet without a new offer/answer.
    await notify(488, 'Not Acceptable Here', true);
    host.transferred({ side, target: target.uri, status: 488, joined: false });
    return;
  }
  const moved = donor.leg.onSide(side);
  donor.surrender();
  const previous = host.replaceLeg(moved);
  await notify(200, 'OK', true);
  // RFC 5589 §7.1: the transferor hangs up both its calls; make sure it does.
  void previous?.hangup();
  host.transferred({ side, target: target.uri, status: 200, joined: true });
}
