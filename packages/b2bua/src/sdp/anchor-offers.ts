/**
 * Offers the anchor makes itself rather than relays: a repeat of what a side last got (session
 * refresh), the same toward a new peer (transfer), one narrowed to a codec (media leg), and one of
 * our own when the caller sent none (RFC 3264 §5 delayed offer).
 */
import type { RelaySide } from '../media/media-relay.js';
import {
  allowsMediaType,
  filterCodecs,
  hasMediaFormat,
  keepPayloads,
  payloadsOf,
} from './codec-policy.js';
import {
  otherSide,
  type AnchorState,
  type PendingOffer,
  type SdpOutcome,
  type SideMemory,
} from './anchor-state.js';
import { cloneSdp, writeSdp, type Sdp } from './parse-sdp.js';
import { pointStreamAt } from './rewrite-sdp.js';

function nothingSent(): SdpOutcome {
  return { ok: false, status: 500, reason: 'nothing sent to that side yet' };
}

function busy(): SdpOutcome {
  return { ok: false, status: 491, reason: 'offer pending' };
}

function pendingFor(to: RelaySide, sent: Sdp, extra: Partial<PendingOffer> = {}): PendingOffer {
  return { from: otherSide(to), origin: undefined, sent, created: [], previous: [], ...extra };
}

/** What `to` last received, again (RFC 3264 §8: unchanged, same version). */
export function reoffer(s: AnchorState, to: RelaySide): SdpOutcome {
  const last = s.lastSent[to];
  if (last === undefined) return nothingSent();
  if (s.pending !== undefined) return busy();
  const sent = cloneSdp(last.sdp);
  s.pending = pendingFor(to, sent);
  return { ok: true, sdp: writeSdp(sent) };
}

/** What `to` last received under a new o= session, for a new peer (RFC 3264 §5). */
export function offerToNewPeer(s: AnchorState, to: RelaySide): SdpOutcome {
  const last = s.lastSent[to];
  if (last === undefined) return nothingSent();
  if (s.pending !== undefined) return busy();
  const restore: SideMemory = {
    side: to,
    origin: { ...s.origins[to] },
    lastSent: last,
    lastReceived: s.lastReceived[to],
  };
  s.origins[to] = s.newOrigin();
  delete s.lastSent[to];
  delete s.lastReceived[to];
  const sdp = cloneSdp(last.sdp);
  s.pending = pendingFor(to, sdp, { restore });
  return { ok: true, sdp: s.finish(sdp, to) };
}

/** What `to` last received with its audio narrowed to `payloadType` (and telephone-event). */
export function narrowedOffer(s: AnchorState, to: RelaySide, payloadType: number): SdpOutcome {
  const last = s.lastSent[to];
  if (last === undefined) return nothingSent();
  if (s.pending !== undefined) return busy();
  const sdp = cloneSdp(last.sdp);
  for (const m of sdp.media) {
    if (m.type !== 'audio' || m.port === 0) continue;
    const keep = payloadsOf(m)
      .filter((p) => p.payloadType === payloadType || p.name?.toLowerCase() === 'telephone-event')
      .map((p) => p.payloadType);
    keepPayloads(m, keep);
  }
  s.pending = pendingFor(to, sdp);
  return { ok: true, sdp: s.finish(sdp, to) };
}

/** Codecs we offer on our own, in order, before the policy filters them. */
const OWN_CODECS: readonly { pt: number; name: string; rate: number; channels?: number }[] = [
  { pt: 0, name: 'PCMU', rate: 8000 },
  { pt: 8, name: 'PCMA', rate: 8000 },
  { pt: 9, name: 'G722', rate: 8000 },
  { pt: 18, name: 'G729', rate: 8000 },
  { pt: 111, name: 'opus', rate: 48000, channels: 2 },
  { pt: 101, name: 'telephone-event', rate: 8000 },
];
/** Offered when the policy names no codec (G.711 and RFC 4733 DTMF go almost everywhere). */
const DEFAULT_OWN = new Set(['pcmu', 'pcma', 'telephone-event']);

/** One audio stream with the codecs the policy allows (before the relay address is written). */
export function ownOfferTemplate(s: AnchorState): Sdp {
  const allow = s.codecs?.allow?.map((c) => c.toLowerCase());
  const codecs = OWN_CODECS.filter((c) =>
    allow === undefined ? DEFAULT_OWN.has(c.name.toLowerCase()) : true,
  );
  const media: Sdp['media'][number] = {
    type: 'audio',
    port: 9,
    protocol: 'RTP/AVP',
    payloads: codecs.map((c) => c.pt).join(' '),
    rtp: codecs.map((c) => ({
      payload: c.pt,
      codec: c.name,
      rate: c.rate,
      ...(c.channels === undefined ? {} : { encoding: c.channels }),
    })),
    fmtp: [{ payload: 101, config: '0-16' }],
    direction: 'sendrecv',
  };
  filterCodecs(media, s.codecs);
  const origin = { username: '-', sessionId: 0, sessionVersion: 0, netType: 'IN', ipVer: 4 };
  return {
    version: 0,
    origin: { ...origin, address: '0.0.0.0' },
    name: '-',
    timing: { start: 0, stop: 0 },
    media: [media],
  };
}

/** Our own offer toward `to` on a new relay session (delayed offer from the other side). */
export async function localOffer(s: AnchorState, to: RelaySide): Promise<SdpOutcome> {
  if (s.closed) return { ok: false, status: 500, reason: 'call media closed' };
  if (s.pending !== undefined) return busy();
  if (!allowsMediaType('audio', s.codecs))
    return { ok: false, status: 488, reason: 'the policy takes no audio', warning: 304 };
  const sdp = ownOfferTemplate(s);
  const media = sdp.media[0];
  // RFC 3261 §21.4.26: the policy leaves nothing we can offer.
  if (media === undefined || !hasMediaFormat(media))
    return { ok: false, status: 488, reason: 'no codec the policy allows', warning: 305 };
  const pending = pendingFor(to, sdp);
  s.pending = pending;
  const session = await s.sessionFor(0, pending);
  if (session === undefined || s.closed || s.pending !== pending) {
    if (s.pending === pending) s.pending = undefined;
    for (const created of pending.created) created.close();
    s.streams.length = 0;
    return s.closed
      ? { ok: false, status: 500, reason: 'call media closed' }
      : { ok: false, status: 503, reason: 'media relay has no capacity' };
  }
  pointStreamAt(sdp, media, session.side(to));
  return { ok: true, sdp: s.finish(sdp, to) };
}

/** The description last sent to `from` is an offer whose answer ends at the anchor. */
export function expectAnswer(s: AnchorState, from: RelaySide): SdpOutcome {
  const last = s.lastSent[from];
  if (last === undefined) return nothingSent();
  if (s.pending !== undefined) return busy();
  s.pending = pendingFor(from, cloneSdp(last.sdp), { terminal: true });
  return { ok: true, sdp: writeSdp(last.sdp) };
}
