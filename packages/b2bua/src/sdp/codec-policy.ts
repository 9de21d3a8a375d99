/**
 * Codec lists per policy (e.g. a trunk that takes only G.711): filters the formats of an m= line
 * and names them, using a=rtpmap or the static payload types of RFC 3551 §6.
 */
import type { MediaCodec } from '../media/media-server.js';
import type { Sdp, SdpMedia } from './parse-sdp.js';

export interface CodecPolicy {
  /** Codec names kept (case-insensitive, e.g. 'PCMU', 'opus'); others removed. Default: all. */
  allow?: readonly string[];
  /** Codec names removed. */
  deny?: readonly string[];
  /** Media types relayed (e.g. ['audio'] for a voice trunk); streams of others are refused. Default: all. */
  mediaTypes?: readonly string[];
}

/** True when the policy takes streams of this media type (m= audio, video...). */
export function allowsMediaType(type: string, policy: CodecPolicy | undefined): boolean {
  const types = policy?.mediaTypes;
  return types === undefined || types.some((t) => t.toLowerCase() === type.toLowerCase());
}

/** RFC 3551 §6 static payload types (name/clock rate). */
const STATIC_PAYLOADS: Readonly<Record<number, { name: string; rate: number }>> = {
  0: { name: 'PCMU', rate: 8000 },
  3: { name: 'GSM', rate: 8000 },
  4: { name: 'G723', rate: 8000 },
  5: { name: 'DVI4', rate: 8000 },
  6: { name: 'DVI4', rate: 16000 },
  7: { name: 'LPC', rate: 8000 },
  8: { name: 'PCMA', rate: 8000 },
  9: { name: 'G722', rate: 8000 },
  10: { name: 'L16', rate: 44100 },
  11: { name: 'L16', rate: 44100 },
  12: { name: 'QCELP', rate: 8000 },
  13: { name: 'CN', rate: 8000 },
  14: { name: 'MPA', rate: 90000 },
  15: { name: 'G728', rate: 8000 },
  18: { name: 'G729', rate: 8000 },
  26: { name: 'JPEG', rate: 90000 },
  31: { name: 'H261', rate: 90000 },
  32: { name: 'MPV', rate: 90000 },
  34: { name: 'H263', rate: 90000 },
};

/** Formats that carry no media of their own: a stream needs at least one other format. */
const AUXILIARY: ReadonlySet<string> = new Set([
  'telephone-event',
  'cn',
  'red',
  'ulpfec',
  'flexfec-03',
  'rtx',
]);

export interface PayloadInfo {
  payloadType: number;
  name: string | undefined;
  clockRate: number | undefined;
  channels: number | undefined;
}

/** The formats of an m= line, in order, with their names. */
export function payloadsOf(media: SdpMedia): PayloadInfo[] {
  const out: PayloadInfo[] = [];
  for (const token of (media.payloads ?? '').trim().split(/\s+/)) {
    const pt = Number(token);
    if (!Number.isInteger(pt)) continue; // non-RTP formats (e.g. t38, webrtc-datachannel)
    const map = media.rtp.find((r) => r.payload === pt);
    const fixed = STATIC_PAYLOADS[pt];
    out.push({
      payloadType: pt,
      name: map?.codec ?? fixed?.name,
      clockRate: map?.rate ?? fixed?.rate,
      channels: map?.encoding,
    });
  }
  return out;
}

function allowed(name: string | undefined, policy: CodecPolicy): boolean {
  const lower = name?.toLowerCase();
  if (lower === undefined) return policy.allow === undefined;
  if (policy.deny?.some((d) => d.toLowerCase() === lower) === true) return false;
  if (policy.allow === undefined || AUXILIARY.has(lower)) return true;
  return policy.allow.some((a) => a.toLowerCase() === lower);
}

export function isAuxiliary(name: string | undefined): boolean {
  return name !== undefined && AUXILIARY.has(name.toLowerCase());
}

/** True when the line offers at least one format that carries media (not DTMF, CN, FEC...). */
export function hasMediaFormat(media: SdpMedia): boolean {
  const tokens = (media.payloads ?? '').trim().split(/\s+/);
  if (tokens.some((t) => !/^\d+$/.test(t))) return true; // non-RTP formats are media
  return payloadsOf(media).some((p) => !isAuxiliary(p.name));
}

/**
 * Removes the formats the policy refuses from an m= line (in place), with their rtpmap, fmtp and
 * rtcp-fb lines. Returns the payload types kept.
 */
export function filterCodecs(media: SdpMedia, policy: CodecPolicy | undefined): number[] {
  const infos = payloadsOf(media);
  if (policy === undefined || infos.length === 0) return infos.map((p) => p.payloadType);
  const kept = infos.filter((p) => allowed(p.name, policy)).map((p) => p.payloadType);
  keepPayloads(media, kept);
  return kept;
}

/** Keeps only `kept` formats on the line (in place), with their rtpmap, fmtp and rtcp-fb lines. */
export function keepPayloads(media: SdpMedia, kept: readonly number[]): void {
  const keep = new Set(kept);
  media.payloads = kept.join(' ');
  media.rtp = media.rtp.filter((r) => keep.has(r.payload));
  media.fmtp = media.fmtp.filter((f) => keep.has(f.payload));
  if (media.rtcpFb !== undefined)
    media.rtcpFb = media.rtcpFb.filter((f) => f.payload === '*' || keep.has(Number(f.payload)));
}

/** The audio codecs of the first active audio stream, in order, with the DTMF payload type. */
export function audioCodecs(sdp: Sdp): MediaCodec[] {
  const audio = sdp.media.find((m) => m.type === 'audio' && m.port !== 0);
  if (audio === undefined) return [];
  const payloads = payloadsOf(audio);
  const dtmf = payloads.find((p) => p.name?.toLowerCase() === 'telephone-event')?.payloadType;
  return payloads
    .filter((p) => !isAuxiliary(p.name) && p.name !== undefined)
    .map((p) => ({
      name: p.name ?? '',
      payloadType: p.payloadType,
      clockRate: p.clockRate ?? 8000,
      ...(p.channels === undefined ? {} : { channels: p.channels }),
      ...(dtmf === undefined ? {} : { dtmfPayloadType: dtmf }),
    }));
}

/**
 * Payload types present in both lines that carry media (the answer must use the offer's formats,
 * RFC 3264 §6.1; telephone-event or CN alone is no usable answer).
 */
export function commonPayloads(offer: SdpMedia, answer: SdpMedia): number[] {
  const offered = new Map(payloadsOf(offer).map((p) => [p.payloadType, p]));
  return payloadsOf(answer)
    .filter((p) => {
      const o = offered.get(p.payloadType);
      return o !== undefined && !isAuxiliary(o.name ?? p.name);
    })
    .map((p) => p.payloadType);
}
