/**
 * The calls of one B2bua as an attended transfer sees them: a Replaces (RFC 3891) naming one of
 * our own legs lets the transfer join two of our calls instead of sending a new INVITE.
 */
import type { RelaySide } from '../media/media-relay.js';
import { otherSide } from '../sdp/anchor-state.js';
import type { JoinDonor, ReplacedCall } from '../transfer/call-join.js';
import type { ReplacesTarget } from '../transfer/refer-to.js';
import type { CallState } from './call-state.js';
import type { Leg } from './leg.js';

/** What the registry needs of a call. */
export interface RegisteredCall {
  readonly state: CallState;
  leg(side: RelaySide): Leg | undefined;
  joinDonor(side: RelaySide): JoinDonor | undefined;
}

export interface CallRegistry {
  /** Our leg whose dialog `replaces` names, and its call. */
  findLeg(replaces: ReplacesTarget): { call: RegisteredCall; side: RelaySide } | undefined;
}

const SIDES: readonly RelaySide[] = ['a', 'b'];

/** RFC 3891 §3: Call-ID matches, to-tag is our (local) tag, from-tag the peer's (remote) tag. */
export function findLegIn(
  calls: Iterable<RegisteredCall>,
  replaces: ReplacesTarget,
): { call: RegisteredCall; side: RelaySide } | undefined {
  for (const call of calls) {
    for (const side of SIDES) {
      const id = call.leg(side)?.dialog.dialog.id;
      if (
        id !== undefined &&
        id.callId === replaces.callId &&
        id.localTag === replaces.toTag &&
        id.remoteTag === replaces.fromTag
      )
        return { call, side };
    }
  }
  return undefined;
}

/** The call holding the dialog `replaces` names, seen from call `self`. */
export function findReplaced(
  registry: CallRegistry | undefined,
  self: RegisteredCall,
  replaces: ReplacesTarget,
): ReplacedCall | undefined {
  const found = registry?.findLeg(replaces);
  if (found === undefined) return undefined;
  if (found.call === self) return { self: true, confirmed: true, donor: undefined };
  return {
    self: false,
    confirmed: found.call.state === 'answered',
    donor: found.call.joinDonor(otherSide(found.side)),
  };
}
