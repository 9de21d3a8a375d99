/**
 * Media anchoring of a session description (RFC 4566, RFC 3264): read where a side wants its
 * media, and point the description at a relay side instead. One relay session carries the first
 * active media stream; other streams are left as they are.
 */
import { isIP } from 'node:net';
import { parse, write } from 'sdp-transform';
import type { SessionDescription } from 'sdp-transform';

/** Where a side sends and receives the anchored stream, as its SDP says. */
export interface SdpMediaEndpoint {
  address: string;
  rtpPort: number;
  rtcpPort?: number;
  rtcpMux: boolean;
}

/** The relay side to advertise instead (see RelaySideInfo). */
export interface SdpRelaySide {
  address: string;
  rtpPort: number;
  rtcpPort: number | undefined;
}

export type SdpReadResult =
  { ok: true; endpoint: SdpMediaEndpoint; media: number } | { ok: false; reason: string };

const MAX_SDP = 16_384;

function parseSdp(text: string): SessionDescription | undefined {
  if (text.length === 0 || text.length > MAX_SDP || !text.startsWith('v=')) return undefined;
  try {
    return parse(text);
  } catch {
    return undefined; // untrusted bytes never throw
  }
}

/** Index of the stream we anchor: the first m= line with a port (RFC 3264 §8.2: 0 = disabled). */
function anchoredMedia(sdp: SessionDescription): number {
  return sdp.media.findIndex((m) => Number.isInteger(m.port) && m.port > 0);
}

/** Reads the connection address and ports of the anchored stream; never throws. */
export function readSdpEndpoint(text: string): SdpReadResult {
  const sdp = parseSdp(text);
  if (sdp === undefined) return { ok: false, reason: 'not a session description' };
  const index = anchoredMedia(sdp);
  const media = sdp.media[index];
  if (media === undefined) return { ok: false, reason: 'no active media stream' };
  // RFC 4566 §5.7: a media-level c= overrides the session-level one.
  const address = media.connection?.ip ?? sdp.connection?.ip;
  if (address === undefined || isIP(address) === 0)
    return { ok: false, reason: 'connection address is not an IP literal' };
  const endpoint: SdpMediaEndpoint = {
    address,
    rtpPort: media.port,
    rtcpMux: media.rtcpMux !== undefined,
  };
  // RFC 3605: a=rtcp names the RTCP port; otherwise RTP port + 1 (RFC 3550 §11).
  if (media.rtcp !== undefined && Number.isInteger(media.rtcp.port))
    endpoint.rtcpPort = media.rtcp.port;
  return { ok: true, endpoint, media: index };
}

/** The description with the anchored stream pointed at `side`; undefined when unreadable. */
export function rewriteSdp(text: string, side: SdpRelaySide): string | undefined {
  const sdp = parseSdp(text);
  if (sdp === undefined) return undefined;
  const media = sdp.media[anchoredMedia(sdp)];
  if (media === undefined) return undefined;
  const version = isIP(side.address) === 6 ? 6 : 4;
  const connection = { version, ip: side.address };
  // Other streams keep their own address: give them a media-level c= before the session one moves.
  if (sdp.connection !== undefined)
    for (const m of sdp.media)
      if (m !== media && m.connection === undefined) m.connection = { ...sdp.connection };
  sdp.connection = connection;
  media.connection = connection;
  media.port = side.rtpPort;
  if (side.rtcpPort !== undefined && media.rtcpMux === undefined)
    media.rtcp = { port: side.rtcpPort, netType: 'IN', ipVer: version, address: side.address };
  else delete media.rtcp;
  const out = write(sdp);
  return out.endsWith('\r\n') ? out : `${out}\r\n`;
}
