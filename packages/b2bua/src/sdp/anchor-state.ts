/** The state a MediaAnchor keeps per stream and per pending offer, and small helpers on it. */
import type {
  MediaRelay,
  MediaRelaySession,
  RelayRemote,
  RelaySide,
} from '../media/media-relay.js';
import type { CodecPolicy } from './codec-policy.js';
import { connectionAddress, type Sdp } from './parse-sdp.js';
import type { SdpOrigin } from './rewrite-sdp.js';
import { isLegacyHold } from './sdp-direction.js';

/** The description to send on, or why there is none and what to answer the sender. */
export type SdpOutcome =
  { ok: true; sdp: string } | { ok: false; status: 400 | 488 | 491 | 500 | 503; reason: string };

export interface MediaAnchorOptions {
  relay: MediaRelay;
  /** Codecs allowed on this call (both directions). */
  codecs?: CodecPolicy | undefined;
  /** o= username (default 'switchboard'). */
  originUser?: string;
}

export function otherSide(side: RelaySide): RelaySide {
  return side === 'a' ? 'b' : 'a';
}

export interface Stream {
  session: MediaRelaySession | undefined;
  remote: Partial<Record<RelaySide, RelayRemote>>;
}

export interface PendingOffer {
  from: RelaySide;
  /** The offerer's o= line (undefined for our own re-offers), remembered once answered. */
  origin: string | undefined;
  /** The offer as we sent it to the other side. */
  sent: Sdp;
  /** Relay sessions made for this offer (closed if it fails). */
  created: MediaRelaySession[];
  /** The offerer's previous remotes, restored if it fails. */
  previous: (RelayRemote | undefined)[];
  /** A new peer's offer (transfer): what the side had before, restored if it fails. */
  restore?: SideMemory;
}

/** What the anchor remembers of one side's peer. */
export interface SideMemory {
  side: RelaySide;
  origin: SdpOrigin;
  lastSent: { body: string; sdp: Sdp } | undefined;
  lastReceived: string | undefined;
}

export function originKey(sdp: Sdp): string {
  const o = sdp.origin;
  return `${o.username} ${String(o.sessionId)} ${o.sessionVersion} ${o.address}`;
}

/** The peer's receive address for a stream, unless it is on legacy hold or disabled. */
export function remoteOf(sdp: Sdp, index: number): RelayRemote | undefined {
  const m = sdp.media[index];
  if (m === undefined || m.port === 0 || isLegacyHold(sdp, m)) return undefined;
  const address = connectionAddress(sdp, m);
  if (address === undefined) return undefined;
  return {
    address,
    rtpPort: m.port,
    ...(m.rtcp === undefined ? {} : { rtcpPort: m.rtcp.port }),
    ...(m.rtcpMux === undefined ? {} : { rtcpMux: true }),
  };
}
