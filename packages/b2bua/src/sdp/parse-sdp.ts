/**
 * Session descriptions (RFC 4566) read with sdp-transform, plus the checks sdp-transform does not
 * make: it accepts almost any text, so a description is only used once the fields the B2BUA relies
 * on (v=, o=, m= lines with ports, a connection address per active stream) are present and sane.
 */
import { isIP } from 'node:net';
import { parse, write } from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';

export type Sdp = SessionDescription;
export type SdpMedia = MediaDescription;

export type ParseSdpResult = { ok: true; sdp: Sdp } | { ok: false; reason: string };

/** Larger bodies are refused before parsing (a session description is a few hundred bytes). */
export const MAX_SDP_SIZE = 16_384;

const MEDIA_LINE = /^m=[a-z0-9._-]+ \d+(?:\/\d+)? [A-Za-z0-9/._-]+ .+$/;

function fail(reason: string): ParseSdpResult {
  return { ok: false, reason };
}

/** The connection address of a stream: its own c= line, else the session's (RFC 4566 §5.7). */
export function connectionAddress(sdp: Sdp, media: SdpMedia): string | undefined {
  const ip = media.connection?.ip ?? sdp.connection?.ip;
  if (ip === undefined) return undefined;
  // RFC 4566 §5.7: an IPv4 multicast address may carry /ttl; we only relay unicast.
  return ip.split('/')[0];
}

/** RFC 3264 §8.4 / RFC 2543: c=0.0.0.0 is the legacy way to put a stream on hold. */
export function isNullAddress(address: string | undefined): boolean {
  return address === '0.0.0.0' || address === '::';
}

function checkMedia(sdp: Sdp, media: SdpMedia, index: number): string | undefined {
  if (typeof media.type !== 'string' || typeof media.protocol !== 'string')
    return `m= line ${index + 1} does not parse`;
  if (!Number.isInteger(media.port) || media.port < 0 || media.port > 65535)
    return `m= line ${index + 1} has a bad port`;
  if (typeof media.payloads !== 'string' || media.payloads.trim() === '')
    return `m= line ${index + 1} has no formats`;
  if (media.port === 0) return undefined;
  const address = connectionAddress(sdp, media);
  if (address === undefined) return `m= line ${index + 1} has no connection address`;
  if (isIP(address) === 0) return `connection address ${address} is not an IP address`;
  if (media.rtcp !== undefined && (!Number.isInteger(media.rtcp.port) || media.rtcp.port > 65535))
    return `m= line ${index + 1} has a bad a=rtcp port`;
  return undefined;
}

/**
 * The lines the checks need, as splitting on CRLF or LF and dropping empty lines would give them:
 * the first line and the m= lines (only those are copied out of the text).
 */
function scanLines(text: string): { first: string | undefined; media: string[] } {
  let first: string | undefined;
  const media: string[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    // the line without its LF and one CR before it
    const stop =
      end > start && text.charCodeAt(end - 1) === 13 && end < text.length ? end - 1 : end;
    if (stop > start) {
      if (first === undefined) first = text.slice(start, stop);
      if (text.startsWith('m=', start)) media.push(text.slice(start, stop));
    }
    start = end + 1;
  }
  return { first, media };
}

/** Parses and checks a session description; never throws. */
export function parseSdp(text: string): ParseSdpResult {
  if (text.length > MAX_SDP_SIZE) return fail('session description too large');
  const { first, media: mediaLines } = scanLines(text);
  if (first !== 'v=0') return fail('session description does not start with v=0');
  // sdp-transform silently drops m= lines it cannot read; count them ourselves.
  if (mediaLines.length === 0) return fail('no m= line');
  const badLine = mediaLines.find((l) => !MEDIA_LINE.test(l));
  if (badLine !== undefined) return fail(`bad media line: ${badLine.slice(0, 80)}`);
  let sdp: Sdp;
  try {
    sdp = parse(text);
  } catch (err) {
    return fail(`does not parse: ${String(err)}`);
  }
  if (sdp.origin === undefined || typeof sdp.origin.address !== 'string')
    return fail('missing or bad o= line');
  if (sdp.media.length !== mediaLines.length) return fail('media sections do not parse');
  for (let i = 0; i < sdp.media.length; i++) {
    const media = sdp.media[i];
    if (media === undefined) return fail('media sections do not parse');
    // sdp-transform reads a single format as a number.
    if (typeof media.payloads === 'number') media.payloads = String(media.payloads);
    const problem = checkMedia(sdp, media, i);
    if (problem !== undefined) return fail(problem);
  }
  return { ok: true, sdp };
}

export function writeSdp(sdp: Sdp): string {
  return write(sdp);
}

/** A deep copy (descriptions are plain JSON). */
export function cloneSdp(sdp: Sdp): Sdp {
  return structuredClone(sdp);
}
