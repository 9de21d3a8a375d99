/**
 * Joining two anchored calls for an attended transfer inside the B2BUA (RFC 3891): the transferee
 * of one call and the target of the other keep the relay ports they send to; each stream's two
 * relay sessions are spliced (see SplicedSession). Possible only when both parties already use the
 * same codec on every stream, since nobody is re-invited.
 */
import type { RelaySide } from '../media/media-relay.js';
import { isAuxiliary, payloadsOf, type PayloadInfo } from './codec-policy.js';
import { otherSide, type AnchorState } from './anchor-state.js';
import type { Sdp, SdpMedia } from './parse-sdp.js';
import { SplicedSession } from './spliced-session.js';

export type JoinOutcome = { ok: true } | { ok: false; reason: string };

function primary(m: SdpMedia): PayloadInfo | undefined {
  return payloadsOf(m).find((p) => !isAuxiliary(p.name));
}

function dtmf(m: SdpMedia): number | undefined {
  return payloadsOf(m).find((p) => p.name?.toLowerCase() === 'telephone-event')?.payloadType;
}

/** Why the parties described by `kept` and `moved` cannot hear each other as they are. */
export function joinProblem(kept: Sdp | undefined, moved: Sdp | undefined): string | undefined {
  if (kept === undefined || moved === undefined) return 'no session description yet';
  if (kept.media.length !== moved.media.length) return 'different streams';
  for (let i = 0; i < kept.media.length; i++) {
    const k = kept.media[i];
    const m = moved.media[i];
    if (k === undefined || m === undefined || k.type !== m.type) return 'different streams';
    if ((k.port === 0) !== (m.port === 0)) return `stream ${i + 1} is active on one side only`;
    if (k.port === 0) continue;
    const pk = primary(k);
    const pm = primary(m);
    const same =
      pk !== undefined &&
      pm !== undefined &&
      pk.payloadType === pm.payloadType &&
      pk.name?.toLowerCase() === pm.name?.toLowerCase() &&
      pk.clockRate === pm.clockRate;
    if (!same) return `stream ${i + 1} uses different codecs`;
    const dk = dtmf(k);
    const dm = dtmf(m);
    if (dk !== undefined && dm !== undefined && dk !== dm)
      return `stream ${i + 1} uses different telephone-event payload types`;
  }
  return undefined;
}

/**
 * Side `side` of `near` is taken over by the party on `farSide` of `far`. `far` keeps no relay
 * session afterwards.
 */
export function joinSide(
  near: AnchorState,
  side: RelaySide,
  far: AnchorState,
  farSide: RelaySide,
): JoinOutcome {
  if (near === far) return { ok: false, reason: 'a call cannot join itself' };
  if (near.closed || far.closed) return { ok: false, reason: 'call media closed' };
  if (near.pending !== undefined || far.pending !== undefined)
    return { ok: false, reason: 'offer pending' };
  const keep = otherSide(side);
  // What the transferor last got describes each remaining party's media.
  const problem = joinProblem(near.lastSent[side]?.sdp, far.lastSent[otherSide(farSide)]?.sdp);
  if (problem !== undefined) return { ok: false, reason: problem };
  const count = Math.max(near.streams.length, far.streams.length);
  for (let i = 0; i < count; i++) {
    const n = near.streams[i]?.session;
    const f = far.streams[i]?.session;
    if ((n === undefined) !== (f === undefined) || n?.closed === true || f?.closed === true)
      return { ok: false, reason: `stream ${i + 1} is not relayed on both calls` };
  }
  for (let i = 0; i < count; i++) {
    const n = near.streams[i];
    const f = far.streams[i];
    if (n?.session === undefined || f?.session === undefined) continue;
    const spliced = SplicedSession.splice(n.session, keep, f.session, farSide);
    if (spliced === undefined) return { ok: false, reason: 'the relay refused the join' };
    const remote = f.remote[farSide];
    n.session = spliced;
    n.remote = {
      ...(n.remote[keep] === undefined ? {} : { [keep]: n.remote[keep] }),
      ...(remote === undefined ? {} : { [side]: remote }),
    };
    f.session = undefined;
  }
  adoptMemory(near, side, far, farSide);
  return { ok: true };
}

/** The target now hears us with what it last got from `far`: same o= session, same version. */
function adoptMemory(
  near: AnchorState,
  side: RelaySide,
  far: AnchorState,
  farSide: RelaySide,
): void {
  near.origins[side] = far.origins[farSide];
  const sent = far.lastSent[farSide];
  if (sent === undefined) delete near.lastSent[side];
  else near.lastSent[side] = sent;
  const received = far.lastReceived[farSide];
  if (received === undefined) delete near.lastReceived[side];
  else near.lastReceived[side] = received;
}
