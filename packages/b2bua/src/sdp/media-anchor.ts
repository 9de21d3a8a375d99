/**
 * The media of one call anchored on the relay: one relay session per m= line, and the offer/answer
 * exchanges (RFC 3264) between the two sides rewritten through it. An offer from side X is sent to
 * side Y with the relay ports facing Y; Y's answer goes back to X with the ports facing X. Each
 * side's peer address is given to the relay from its own description.
 */
import type { MediaRelaySession, RelayRemote, RelaySide } from '../media/media-relay.js';
import type { MediaCodec } from '../media/media-server.js';
import {
  allowsMediaType,
  audioCodecs,
  commonPayloads,
  filterCodecs,
  hasMediaFormat,
} from './codec-policy.js';
import {
  AnchorState,
  openSessions,
  originKey,
  otherSide,
  remotesOf,
  type MediaAnchorOptions,
  type PendingOffer,
  type SdpOutcome,
} from './anchor-state.js';
import {
  expectAnswer,
  localOffer,
  narrowedOffer,
  offerToNewPeer,
  reoffer,
} from './anchor-offers.js';
import { joinSide, type JoinOutcome } from './anchor-join.js';
import { parseSdp, writeSdp } from './parse-sdp.js';
import { disableStream, pointStreamAt, stripTransportHints } from './rewrite-sdp.js';

export class MediaAnchor {
  readonly #s: AnchorState;

  constructor(options: MediaAnchorOptions) {
    this.#s = new AnchorState(options);
  }

  /** The side whose offer awaits an answer. */
  get pendingFrom(): RelaySide | undefined {
    return this.#s.pending?.from;
  }

  /** Relay sessions currently open (a joined stream holds two). */
  get sessionCount(): number {
    return this.#s.streams.reduce((n, s) => n + openSessions(s.session), 0);
  }

  /** The relay sessions, one per m= line (undefined for streams not relayed). */
  get sessions(): readonly (MediaRelaySession | undefined)[] {
    return this.#s.streams.map((s) => s.session);
  }

  /** The last description each side received from us. */
  lastSentTo(side: RelaySide): string | undefined {
    const last = this.#s.lastSent[side];
    return last === undefined ? undefined : writeSdp(last.sdp);
  }

  /**
   * An offer from `from`: relay sessions for new streams, the offerer's addresses given to the
   * relay, and the offer rewritten for the other side. 400 when it does not parse, 488 when no
   * stream is left with a usable codec, 491 while another offer is pending, 503 when the relay
   * has no ports.
   */
  async offer(from: RelaySide, body: string): Promise<SdpOutcome> {
    const s = this.#s;
    if (s.closed) return { ok: false, status: 500, reason: 'call media closed' };
    // RFC 3264 §4 / RFC 3311 §5.2: one offer at a time; a second one meets 491.
    if (s.pending !== undefined) return { ok: false, status: 491, reason: 'offer pending' };
    const parsed = parseSdp(body);
    if (!parsed.ok) return { ok: false, status: 400, reason: `bad SDP: ${parsed.reason}` };
    // The parsed description is rewritten in place: what the relay needs of the offerer is read first.
    const out = parsed.sdp;
    const remotes = remotesOf(out);
    stripTransportHints(out);
    const to = otherSide(from);
    const pending: PendingOffer = {
      from,
      origin: originKey(out),
      sent: out,
      created: [],
      previous: [],
    };
    s.pending = pending;
    let usable = 0;
    let typed = 0;
    for (let i = 0; i < out.media.length; i++) {
      const m = out.media[i];
      if (m === undefined) continue;
      if (allowsMediaType(m.type, s.codecs)) typed++;
      else m.port = 0;
      filterCodecs(m, s.codecs);
      if (m.port === 0 || !hasMediaFormat(m)) {
        disableStream(m);
        continue;
      }
      const session = await s.sessionFor(i, pending);
      if (session === undefined) {
        this.rollback();
        return { ok: false, status: 503, reason: 'media relay has no capacity' };
      }
      if (s.closed || s.pending !== pending) {
        return { ok: false, status: 500, reason: 'call media closed' };
      }
      usable++;
      s.setRemote(i, from, remotes[i], pending);
      pointStreamAt(out, m, session.side(to));
    }
    if (usable === 0) {
      this.rollback();
      // RFC 3261 §21.4.26: no stream we can take → 488; §20.43: 304 no such media type, 305 no codec.
      return typed === 0
        ? { ok: false, status: 488, reason: 'no media type we take', warning: 304 }
        : { ok: false, status: 488, reason: 'no common codec', warning: 305 };
    }
    return { ok: true, sdp: s.finish(out, to) };
  }

  /**
   * The answer to the pending offer, from the other side: its addresses given to the relay and the
   * answer rewritten for the offerer. A provisional answer (183 with SDP, not reliable) leaves the
   * offer open for the final one. The answer to our own offer of a delayed-offer call ends here
   * (the result's `sdp` is empty).
   */
  answer(from: RelaySide, body: string, provisional = false): SdpOutcome {
    const s = this.#s;
    const pending = s.pending;
    if (pending === undefined || pending.from === from)
      return { ok: false, status: 500, reason: 'answer without an offer' };
    const parsed = parseSdp(body);
    if (!parsed.ok) return { ok: false, status: 488, reason: `bad SDP answer: ${parsed.reason}` };
    const out = parsed.sdp;
    // RFC 3264 §6: the answer has as many m= lines as the offer, in the same order.
    if (out.media.length !== pending.sent.media.length)
      return { ok: false, status: 488, reason: 'answer does not match the offer' };
    // Rewritten in place, as the offer: the answerer's addresses and o= are read first.
    const remotes = remotesOf(out);
    const answerOrigin = originKey(out);
    stripTransportHints(out);
    const to = pending.from;
    let accepted = 0;
    const rejected: number[] = [];
    for (let i = 0; i < out.media.length; i++) {
      const m = out.media[i];
      const offered = pending.sent.media[i];
      const session = s.streams[i]?.session;
      if (m === undefined || offered === undefined) continue;
      if (m.port === 0 || offered.port === 0 || session === undefined) {
        rejected.push(i);
        disableStream(m);
        continue;
      }
      if (commonPayloads(offered, m).length === 0)
        return { ok: false, status: 488, reason: `answer stream ${i + 1} has no offered codec` };
      accepted++;
      s.setRemote(i, from, remotes[i], undefined);
      pointStreamAt(out, m, session.side(to));
    }
    if (accepted === 0 && !provisional)
      return { ok: false, status: 488, reason: 'answer accepts no stream' };
    const sdp = pending.terminal === true ? '' : s.finish(out, to);
    if (!provisional) {
      s.lastReceived[from] = answerOrigin;
      s.commit(rejected);
    }
    return { ok: true, sdp };
  }

  /**
   * An offer toward `to` on behalf of the other side, repeating what `to` last received (session
   * refresh, offerless re-INVITE, RFC 3264 §8 "no change" keeps the version). Its answer goes
   * through `answer(to, ...)`; the result is not sent anywhere.
   */
  reoffer(to: RelaySide): SdpOutcome {
    return reoffer(this.#s, to);
  }

  /**
   * RFC 3264 §8: an offer whose o= line (session id and version) is the one `from` sent last
   * changes nothing (a session refresh). Returns the description to answer with: the one `from`
   * last received from us. Undefined when the offer is new.
   */
  unchangedOffer(from: RelaySide, body: string): string | undefined {
    const s = this.#s;
    if (s.pending !== undefined) return undefined;
    const last = s.lastReceived[from];
    const sent = this.lastSentTo(from);
    if (last === undefined || sent === undefined) return undefined;
    const parsed = parseSdp(body);
    if (!parsed.ok || originKey(parsed.sdp) !== last) return undefined;
    return sent;
  }

  /**
   * An offer for a new peer on side `to` (a transfer target): what that side last received, under
   * a new o= session (RFC 3264 §5: a new session for a new peer). Its answer points the relay side
   * at the new peer; the other side keeps its ports and hears nothing (media anchoring kept).
   */
  offerToNewPeer(to: RelaySide): SdpOutcome {
    return offerToNewPeer(this.#s, to);
  }

  /**
   * Our own offer toward `to` when the other side made none (RFC 3264 §5 delayed offer: the caller
   * sent an INVITE without SDP): one audio stream on a new relay session, with the codecs the
   * policy allows. The answer comes back through `answer(to, ...)`.
   */
  localOffer(to: RelaySide): Promise<SdpOutcome> {
    return localOffer(this.#s, to);
  }

  /**
   * The description last sent to `from` was an offer (delayed offer: our 2xx to the caller); its
   * answer arrives later through `answer(from, ...)` and goes nowhere else.
   */
  expectAnswer(from: RelaySide): SdpOutcome {
    return expectAnswer(this.#s, from);
  }

  /** The audio codecs last offered or answered toward `side`, in order (for a media leg). */
  negotiatedCodecs(side: RelaySide): MediaCodec[] {
    const sdp = this.#s.lastSent[side]?.sdp;
    return sdp === undefined ? [] : audioCodecs(sdp);
  }

  /**
   * An offer toward `to` repeating its last description with the audio formats narrowed to
   * `payloadType` (and telephone-event): makes the peer switch to the codec a media leg speaks.
   */
  narrowedOffer(to: RelaySide, payloadType: number): SdpOutcome {
    return narrowedOffer(this.#s, to, payloadType);
  }

  /**
   * Attended transfer inside the B2BUA: side `side` of this call is taken over by the party on
   * `donorSide` of `donor`, which keeps the relay ports it has (the two relay sessions are spliced);
   * `donor` is left without media and should be closed. Refused when an offer is pending on either
   * call or the parties' codecs differ.
   */
  join(side: RelaySide, donor: MediaAnchor, donorSide: RelaySide): JoinOutcome {
    return joinSide(this.#s, side, donor.#s, donorSide);
  }

  /** The first audio stream's relay session and the address each side's peer receives on. */
  audioStream():
    { session: MediaRelaySession; remote: Partial<Record<RelaySide, RelayRemote>> } | undefined {
    const s = this.#s;
    const sent = s.lastSent.a ?? s.lastSent.b;
    const index = sent?.sdp.media.findIndex((m) => m.type === 'audio' && m.port !== 0) ?? -1;
    const stream = s.streams[index];
    if (stream?.session === undefined || stream.session.closed) return undefined;
    return { session: stream.session, remote: stream.remote };
  }

  /** The pending offer failed (non-2xx, 491, timeout): its new sessions go, old remotes return. */
  rollback(): void {
    const s = this.#s;
    const pending = s.pending;
    if (pending === undefined) return;
    s.pending = undefined;
    const restore = pending.restore;
    if (restore !== undefined) {
      s.origins[restore.side] = restore.origin;
      if (restore.lastSent === undefined) delete s.lastSent[restore.side];
      else s.lastSent[restore.side] = restore.lastSent;
      if (restore.lastReceived === undefined) delete s.lastReceived[restore.side];
      else s.lastReceived[restore.side] = restore.lastReceived;
    }
    for (const session of pending.created) {
      session.close();
      const stream = s.streams.find((x) => x.session === session);
      if (stream !== undefined) stream.session = undefined;
    }
    pending.previous.forEach((remote, i) => {
      const session = s.streams[i]?.session;
      if (remote !== undefined && session !== undefined && !session.closed)
        s.trySetRemote(session, pending.from, remote, i);
    });
  }

  /** Closes every relay session; safe to call twice. */
  close(): void {
    const s = this.#s;
    s.closed = true;
    s.pending = undefined;
    for (const stream of s.streams) {
      stream.session?.close();
      stream.session = undefined;
    }
  }
}
