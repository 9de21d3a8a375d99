/**
 * Rewriting a session description so a peer sends its media to the relay: our origin, the relay's
 * address and ports, nothing of the other party's network (ICE candidates, BUNDLE, its addresses).
 */
import { isIP } from 'node:net';
import type { RelayLocal } from '../media/media-relay.js';
import type { Sdp, SdpMedia } from './parse-sdp.js';
import { isLegacyHold, legacyHoldDirection, mediaDirection } from './sdp-direction.js';

/** Our o= line toward one peer (RFC 4566 §5.2); the version grows when the description changes. */
export interface SdpOrigin {
  username: string;
  sessionId: string;
  version: number;
}

function ipVersion(address: string): number {
  return isIP(address) === 6 ? 6 : 4;
}

/** Removes what only means something between the original peers (ICE, BUNDLE, their candidates). */
export function stripTransportHints(sdp: Sdp): void {
  delete sdp.icelite;
  delete sdp.iceUfrag;
  delete sdp.icePwd;
  delete sdp.iceOptions;
  // RFC 8843: the relay gives each stream its own ports, so bundling cannot survive it.
  if (sdp.groups !== undefined) {
    sdp.groups = sdp.groups.filter((g) => g.type.toUpperCase() !== 'BUNDLE');
    if (sdp.groups.length === 0) delete sdp.groups;
  }
  for (const m of sdp.media) {
    delete m.candidates;
    delete m.endOfCandidates;
    delete m.remoteCandidates;
    delete m.iceUfrag;
    delete m.icePwd;
    delete m.iceOptions;
    delete m.bundleOnly;
  }
}

/**
 * Points one stream at the relay side facing the receiver of this description. A legacy hold
 * (c=0.0.0.0) becomes the equivalent direction attribute, since the address is replaced.
 */
export function pointStreamAt(sdp: Sdp, media: SdpMedia, local: RelayLocal): void {
  if (isLegacyHold(sdp, media)) media.direction = legacyHoldDirection(mediaDirection(sdp, media));
  media.port = local.rtpPort;
  media.connection = { version: ipVersion(local.address), ip: local.address };
  if (local.rtcpPort !== undefined) media.rtcp = { port: local.rtcpPort };
  else delete media.rtcp;
}

/** A stream we will not relay (rejected or disabled): port 0 (RFC 3264 §6, §8.2). */
export function disableStream(media: SdpMedia): void {
  media.port = 0;
  delete media.rtcp;
  delete media.connection; // the session-level c= (ours) applies
}

/** Our origin and session-level connection; the session-level direction moves onto each stream. */
export function setSessionFields(sdp: Sdp, origin: SdpOrigin, address: string): void {
  sdp.origin = {
    username: origin.username,
    sessionId: origin.sessionId,
    sessionVersion: origin.version,
    netType: 'IN',
    ipVer: ipVersion(address),
    address,
  };
  sdp.connection = { version: ipVersion(address), ip: address };
  if (sdp.direction !== undefined) {
    for (const m of sdp.media) m.direction ??= sdp.direction;
    delete sdp.direction;
  }
}

/** The o= line as sdp-transform writes it (RFC 4566 §5.2; grammar '%s %s %d %s IP%d %s'). */
function originLine(o: Sdp['origin'], version: number): string {
  return `o=${String(o.username)} ${String(o.sessionId)} ${Number(version)} ${String(o.netType)} IP${Number(o.ipVer)} ${String(o.address)}`;
}

/**
 * `body`, written from `sdp` when its o= version was 0, with the o= line of `sdp` as it is now:
 * the same text as writing `sdp` again, without writing it all. Undefined when `body` does not
 * hold that o= line (the caller then writes `sdp` again).
 */
export function withOriginVersion(body: string, sdp: Sdp): string | undefined {
  const start = body.indexOf('\r\no=') + 2;
  const end = body.indexOf('\r\n', start);
  if (start < 2 || end < 0 || body.slice(start, end) !== originLine(sdp.origin, 0))
    return undefined;
  return `${body.slice(0, start)}${originLine(sdp.origin, sdp.origin.sessionVersion)}${body.slice(end)}`;
}
