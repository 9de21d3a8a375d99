/**
 * Media anchoring of a session description (RFC 4566, RFC 3264): read where a side wants its
 * media, and point the description at a relay side instead. One relay session carries the first
 * active media stream; other streams are left as they are.
 *
 * One pass over the lines, on the signalling path of every anchored call: the lines it does not
 * change are kept as they came (line endings become CRLF; lines that are not `x=value` go, as a
 * full SDP parser would drop them). The fields read follow the sdp-transform grammar this module
 * used before: `c=IN IP<v> <ip>`, `m=<type> <port> <proto> ...`, `a=rtcp:<port>`, `a=rtcp-mux`.
 */
import { isIP } from 'node:net';

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

export type SdpAnchorResult =
  { ok: true; endpoint: SdpMediaEndpoint; text: string } | { ok: false; reason: string };

const MAX_SDP = 16_384;
const LINE_BREAK = /\r\n|\r|\n/;
const CONNECTION = /^c=IN IP(\d) (\S*)/;
const MEDIA = /^m=(\w*) (\d*) [\w/]*/;
const RTCP = /^a=rtcp:(\d*)/;

/** The lines of a description, or undefined when it is not one; never throws. */
function sdpLines(text: string): string[] | undefined {
  if (text.length === 0 || text.length > MAX_SDP || !text.startsWith('v=')) return undefined;
  const lines = text.split(LINE_BREAK);
  let n = 0;
  // RFC 4566 §5: `<type>=<value>`; anything else is dropped.
  for (const l of lines) if (isSdpLine(l)) lines[n++] = l;
  lines.length = n;
  return lines;
}

function isSdpLine(l: string): boolean {
  const c = l.charCodeAt(0);
  return c >= 97 && c <= 122 && l.charCodeAt(1) === 61;
}

/** A decimal integer as a parser that keeps non-canonical numbers as text would read it. */
function canonicalInt(s: string | undefined): number | undefined {
  if (s === undefined || s.length === 0) return undefined;
  const n = Number(s);
  return String(n) === s ? n : undefined;
}

interface Connection {
  version: string;
  ip: string;
}

function connectionOf(line: string): Connection | undefined {
  const m = CONNECTION.exec(line);
  return m === null ? undefined : { version: m[1] ?? '', ip: m[2] ?? '' };
}

/** One media section: its line range and what anchoring reads of it. */
interface MediaSection {
  start: number;
  end: number;
  port: number | undefined;
  connection: Connection | undefined;
  rtcpPort: number | undefined;
  rtcpMux: boolean;
}

interface Layout {
  sessionEnd: number;
  session: Connection | undefined;
  media: MediaSection[];
}

function layoutOf(lines: readonly string[]): Layout {
  let i = 0;
  let session: Connection | undefined;
  for (; i < lines.length && !(lines[i] as string).startsWith('m='); i++) {
    const l = lines[i] as string;
    // a later c= wins, as in a parser that overwrites
    if (l.startsWith('c=')) session = connectionOf(l) ?? session;
  }
  const layout: Layout = { sessionEnd: i, session, media: [] };
  while (i < lines.length) {
    const start = i;
    const m = MEDIA.exec(lines[i] as string);
    const section: MediaSection = {
      start,
      end: 0,
      port: m === null ? undefined : canonicalInt(m[2]),
      connection: undefined,
      rtcpPort: undefined,
      rtcpMux: false,
    };
    for (i++; i < lines.length && !(lines[i] as string).startsWith('m='); i++) {
      const l = lines[i] as string;
      if (l.startsWith('c=')) section.connection = connectionOf(l) ?? section.connection;
      else if (l.startsWith('a=rtcp-mux')) section.rtcpMux = true;
      // the last a=rtcp counts, as in a parser that overwrites
      else if (l.startsWith('a=rtcp:')) section.rtcpPort = canonicalInt(RTCP.exec(l)?.[1]);
    }
    section.end = i;
    layout.media.push(section);
  }
  return layout;
}

/** Index of the stream we anchor: the first m= line with a port (RFC 3264 §8.2: 0 = disabled). */
function anchoredIndex(layout: Layout): number {
  return layout.media.findIndex((m) => m.port !== undefined && m.port > 0);
}

function endpointOf(
  layout: Layout,
): { ok: true; endpoint: SdpMediaEndpoint; media: number } | { ok: false; reason: string } {
  const index = anchoredIndex(layout);
  const media = layout.media[index];
  if (media === undefined || media.port === undefined)
    return { ok: false, reason: 'no active media stream' };
  // RFC 4566 §5.7: a media-level c= overrides the session-level one.
  const address = media.connection?.ip ?? layout.session?.ip;
  if (address === undefined || isIP(address) === 0)
    return { ok: false, reason: 'connection address is not an IP literal' };
  const endpoint: SdpMediaEndpoint = { address, rtpPort: media.port, rtcpMux: media.rtcpMux };
  // RFC 3605: a=rtcp names the RTCP port; otherwise RTP port + 1 (RFC 3550 §11).
  if (media.rtcpPort !== undefined) endpoint.rtcpPort = media.rtcpPort;
  return { ok: true, endpoint, media: index };
}

/** Reads the connection address and ports of the anchored stream; never throws. */
export function readSdpEndpoint(text: string): SdpReadResult {
  const lines = sdpLines(text);
  if (lines === undefined) return { ok: false, reason: 'not a session description' };
  return endpointOf(layoutOf(lines));
}

/** The description with the anchored stream pointed at `side`; undefined when unreadable. */
export function rewriteSdp(text: string, side: SdpRelaySide): string | undefined {
  const lines = sdpLines(text);
  if (lines === undefined) return undefined;
  const layout = layoutOf(lines);
  const index = anchoredIndex(layout);
  return index < 0 ? undefined : writeAnchoredSdp(lines, layout, index, side);
}

/**
 * Reads the anchored stream's endpoint and rewrites the description toward `side` in one pass:
 * what the media anchor does to every SDP body of an anchored call. Never throws.
 */
export function anchorSdp(text: string, side: SdpRelaySide): SdpAnchorResult {
  const lines = sdpLines(text);
  if (lines === undefined) return { ok: false, reason: 'not a session description' };
  const layout = layoutOf(lines);
  const read = endpointOf(layout);
  if (!read.ok) return read;
  return {
    ok: true,
    endpoint: read.endpoint,
    text: writeAnchoredSdp(lines, layout, read.media, side),
  };
}

function writeAnchoredSdp(
  lines: readonly string[],
  layout: Layout,
  anchored: number,
  side: SdpRelaySide,
): string {
  const version = isIP(side.address) === 6 ? 6 : 4;
  const cLine = `c=IN IP${version} ${side.address}`;
  const out: string[] = [];
  writeSession(out, lines, layout, cLine);
  const old = layout.session;
  layout.media.forEach((m, i) => {
    if (i === anchored) return writeAnchored(out, lines, m, side, cLine, version);
    // Other streams keep their own address: they get a media-level c= before the session one moves.
    const keep = m.connection === undefined && old !== undefined;
    writeSection(out, lines, m, keep ? `c=IN IP${old.version} ${old.ip}` : undefined);
  });
  return `${out.join('\r\n')}\r\n`;
}

/** Session-level lines with the one c= pointing at the relay (RFC 4566 §5: after v o s i u e p). */
function writeSession(out: string[], lines: readonly string[], layout: Layout, cLine: string) {
  let placed = false;
  for (let i = 0; i < layout.sessionEnd; i++) {
    const l = lines[i] as string;
    if (l.startsWith('c=')) continue;
    if (!placed && 'bztrka'.includes(l.charAt(0))) {
      out.push(cLine);
      placed = true;
    }
    out.push(l);
  }
  if (!placed) out.push(cLine);
}

/** A media section as it was, with `cLine` added after m= (and i=) when given. */
function writeSection(
  out: string[],
  lines: readonly string[],
  m: MediaSection,
  cLine: string | undefined,
): void {
  out.push(lines[m.start] as string);
  let i = m.start + 1;
  if (cLine !== undefined) {
    while (i < m.end && (lines[i] as string).startsWith('i=')) out.push(lines[i++] as string);
    out.push(cLine);
  }
  for (; i < m.end; i++) {
    const l = lines[i] as string;
    // a c= that does not parse is dropped, as a full parser would
    if (!l.startsWith('c=') || CONNECTION.test(l)) out.push(l);
  }
}

/** The anchored section: relay port on m=, the relay's c=, and a=rtcp naming the relay (RFC 3605). */
function writeAnchored(
  out: string[],
  lines: readonly string[],
  m: MediaSection,
  side: SdpRelaySide,
  cLine: string,
  version: number,
): void {
  const mLine = lines[m.start] as string;
  const portAt = mLine.indexOf(' ') + 1;
  const portEnd = mLine.indexOf(' ', portAt);
  out.push(`${mLine.slice(0, portAt)}${side.rtpPort}${mLine.slice(portEnd)}`);
  let i = m.start + 1;
  while (i < m.end && (lines[i] as string).startsWith('i=')) out.push(lines[i++] as string);
  out.push(cLine);
  for (; i < m.end; i++) {
    const l = lines[i] as string;
    if (l.startsWith('c=') || RTCP.test(l)) continue;
    out.push(l);
  }
  if (side.rtcpPort !== undefined && !m.rtcpMux)
    out.push(`a=rtcp:${side.rtcpPort} IN IP${version} ${side.address}`);
}
