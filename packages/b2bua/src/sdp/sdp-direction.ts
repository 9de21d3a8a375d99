/** Stream direction (RFC 3264 §5.1, §8.4) and the legacy c=0.0.0.0 hold of RFC 2543. */
import { connectionAddress, isNullAddress, type Sdp, type SdpMedia } from './parse-sdp.js';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** The direction of a stream: its own attribute, else the session's, else sendrecv (RFC 3264 §5.1). */
export function mediaDirection(sdp: Sdp, media: SdpMedia): Direction {
  return media.direction ?? sdp.direction ?? 'sendrecv';
}

/** RFC 3264 §8.4: a stream whose connection address is 0.0.0.0 is on (legacy) hold. */
export function isLegacyHold(sdp: Sdp, media: SdpMedia): boolean {
  return media.port !== 0 && isNullAddress(connectionAddress(sdp, media));
}

/**
 * The direction that says the same as a legacy hold once the address is replaced by the relay's:
 * the holder asks not to receive, so sendrecv becomes sendonly and recvonly becomes inactive.
 */
export function legacyHoldDirection(direction: Direction): Direction {
  if (direction === 'sendrecv') return 'sendonly';
  if (direction === 'recvonly') return 'inactive';
  return direction;
}

/** True when the stream asks the other side not to send (hold). */
export function isOnHold(sdp: Sdp, media: SdpMedia): boolean {
  if (isLegacyHold(sdp, media)) return true;
  const d = mediaDirection(sdp, media);
  return d === 'sendonly' || d === 'inactive';
}
