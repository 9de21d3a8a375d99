/**
 * The media of one call anchored on the relay: one relay session per m= line, and the offer/answer
 * exchanges (RFC 3264) between the two sides rewritten through it. An offer from side X is sent to
 * side Y with the relay ports facing Y; Y's answer goes back to X with the ports facing X. Each
 * side's peer address is given to the relay from its own description.
 */
import { randomInt } from 'node:crypto';
import type {
  MediaRelay,
  MediaRelaySession,
  RelayRemote,
  RelaySide,
} from '../media/media-relay.js';
import type { MediaCodec } from '../media/media-server.js';
import {
  audioCodecs,
  commonPayloads,
  filterCodecs,
  hasMediaFormat,
  keepPayloads,
  payloadsOf,
  type CodecPolicy,
} from './codec-policy.js';
import {
  originKey,
  otherSide,
  remoteOf,
  type MediaAnchorOptions,
  type PendingOffer,
  type SdpOutcome,
  type SideMemory,
  type Stream,
} from './anchor-state.js';
import { cloneSdp, parseSdp, writeSdp, type Sdp } from './parse-sdp.js';
import {
  disableStream,
  pointStreamAt,
  setSessionFields,
  stripTransportHints,
  type SdpOrigin,
} from './rewrite-sdp.js';

export class MediaAnchor {
  readonly #relay: MediaRelay;
  readonly #codecs: CodecPolicy | undefined;
  readonly #streams: Stream[] = [];
  readonly #origins: Record<RelaySide, SdpOrigin>;
  readonly #originUser: string;
  /** What we last sent to each side, without the o= version (to tell a change, RFC 3264 §8). */
  readonly #lastSent: Partial<Record<RelaySide, { body: string; sdp: Sdp }>> = {};
  /** The o= of the last description each side sent us, to tell a repeated one (RFC 3264 §8). */
  readonly #lastReceived: Partial<Record<RelaySide, string>> = {};
  #pending: PendingOffer | undefined;
  /** Last relay address written (for descriptions whose streams are all disabled). */
  #address = '0.0.0.0';
  #closed = false;

  constructor(options: MediaAnchorOptions) {
    this.#relay = options.relay;
    this.#codecs = options.codecs;
    this.#originUser = options.originUser ?? 'switchboard';
    this.#origins = { a: this.#newOrigin(), b: this.#newOrigin() };
  }

  /** The side whose offer awaits an answer. */
  get pendingFrom(): RelaySide | undefined {
    return this.#pending?.from;
  }

  /** Relay sessions currently open. */
  get sessionCount(): number {
    return this.#streams.filter((s) => s.session !== undefined && !s.session.closed).length;
  }

  /** The relay sessions, one per m= line (undefined for streams not relayed). */
  get sessions(): readonly (MediaRelaySession | undefined)[] {
    return this.#streams.map((s) => s.session);
  }

  /** The last description each side received from us. */
  lastSentTo(side: RelaySide): string | undefined {
    return this.#lastSent[side] === undefined ? undefined : writeSdp(this.#lastSent[side].sdp);
  }

  /**
   * An offer from `from`: relay sessions for new streams, the offerer's addresses given to the
   * relay, and the offer rewritten for the other side. 400 when it does not parse, 488 when no
   * stream is left with a usable codec, 491 while another offer is pending, 503 when the relay
   * has no ports.
   */
  async offer(from: RelaySide, body: string): Promise<SdpOutcome> {
    if (this.#closed) return { ok: false, status: 500, reason: 'call media closed' };
    // RFC 3264 §4 / RFC 3311 §5.2: one offer at a time; a second one meets 491.
    if (this.#pending !== undefined) return { ok: false, status: 491, reason: 'offer pending' };
    const parsed = parseSdp(body);
    if (!parsed.ok) return { ok: false, status: 400, reason: `bad SDP: ${parsed.reason}` };
    const original = parsed.sdp;
    const out = cloneSdp(original);
    stripTransportHints(out);
    const to = otherSide(from);
    const pending: PendingOffer = {
      from,
      origin: originKey(original),
      sent: out,
      created: [],
      previous: [],
    };
    this.#pending = pending;
    let usable = 0;
    for (let i = 0; i < out.media.length; i++) {
      const m = out.media[i];
      if (m === undefined) continue;
      filterCodecs(m, this.#codecs);
      if (m.port === 0 || !hasMediaFormat(m)) {
        disableStream(m);
        continue;
      }
      const session = await this.#sessionFor(i, pending);
      if (session === undefined) {
        this.rollback();
        return { ok: false, status: 503, reason: 'media relay has no capacity' };
      }
      if (this.#closed || this.#pending !== pending) {
        return { ok: false, status: 500, reason: 'call media closed' };
      }
      usable++;
      this.#setRemote(i, from, remoteOf(original, i), pending);
      pointStreamAt(out, m, session.side(to));
    }
    if (usable === 0) {
      this.rollback();
      // RFC 3261 §21.4.26: no stream we can take → 488 Not Acceptable Here.
      return { ok: false, status: 488, reason: 'no common codec' };
    }
    return { ok: true, sdp: this.#finish(out, to) };
  }

  /**
   * The answer to the pending offer, from the other side: its addresses given to the relay and the
   * answer rewritten for the offerer. A provisional answer (183 with SDP, not reliable) leaves the
   * offer open for the final one.
   */
  answer(from: RelaySide, body: string, provisional = false): SdpOutcome {
    const pending = this.#pending;
    if (pending === undefined || pending.from === from)
      return { ok: false, status: 500, reason: 'answer without an offer' };
    const parsed = parseSdp(body);
    if (!parsed.ok) return { ok: false, status: 488, reason: `bad SDP answer: ${parsed.reason}` };
    const original = parsed.sdp;
    // RFC 3264 §6: the answer has as many m= lines as the offer, in the same order.
    if (original.media.length !== pending.sent.media.length)
      return { ok: false, status: 488, reason: 'answer does not match the offer' };
    const out = cloneSdp(original);
    stripTransportHints(out);
    const to = pending.from;
    let accepted = 0;
    const rejected: number[] = [];
    for (let i = 0; i < out.media.length; i++) {
      const m = out.media[i];
      const offered = pending.sent.media[i];
      const session = this.#streams[i]?.session;
      if (m === undefined || offered === undefined) continue;
      if (m.port === 0 || offered.port === 0 || session === undefined) {
        rejected.push(i);
        disableStream(m);
        continue;
      }
      if (commonPayloads(offered, m).length === 0)
        return { ok: false, status: 488, reason: `answer stream ${i + 1} has no offered codec` };
      accepted++;
      this.#setRemote(i, from, remoteOf(original, i), undefined);
      pointStreamAt(out, m, session.side(to));
    }
    if (accepted === 0 && !provisional)
      return { ok: false, status: 488, reason: 'answer accepts no stream' };
    const sdp = this.#finish(out, to);
    if (!provisional) {
      this.#lastReceived[from] = originKey(original);
      this.#commit(rejected);
    }
    return { ok: true, sdp };
  }

  /**
   * An offer toward `to` on behalf of the other side, repeating what `to` last received (session
   * refresh, offerless re-INVITE, RFC 3264 §8 "no change" keeps the version). Its answer goes
   * through `answer(to, ...)`; the result is not sent anywhere.
   */
  reoffer(to: RelaySide): SdpOutcome {
    const last = this.#lastSent[to];
    if (last === undefined)
      return { ok: false, status: 500, reason: 'nothing sent to that side yet' };
    if (this.#pending !== undefined) return { ok: false, status: 491, reason: 'offer pending' };
    const sent = cloneSdp(last.sdp);
    this.#pending = { from: otherSide(to), origin: undefined, sent, created: [], previous: [] };
    return { ok: true, sdp: writeSdp(sent) };
  }

  /**
   * RFC 3264 §8: an offer whose o= line (session id and version) is the one `from` sent last
   * changes nothing (a session refresh). Returns the description to answer with: the one `from`
   * last received from us. Undefined when the offer is new.
   */
  unchangedOffer(from: RelaySide, body: string): string | undefined {
    if (this.#pending !== undefined) return undefined;
    const last = this.#lastReceived[from];
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
    const last = this.#lastSent[to];
    if (last === undefined)
      return { ok: false, status: 500, reason: 'nothing sent to that side yet' };
    if (this.#pending !== undefined) return { ok: false, status: 491, reason: 'offer pending' };
    const restore: SideMemory = {
      side: to,
      origin: { ...this.#origins[to] },
      lastSent: last,
      lastReceived: this.#lastReceived[to],
    };
    this.#origins[to] = this.#newOrigin();
    delete this.#lastSent[to];
    delete this.#lastReceived[to];
    const sdp = cloneSdp(last.sdp);
    this.#pending = {
      from: otherSide(to),
      origin: undefined,
      sent: sdp,
      created: [],
      previous: [],
      restore,
    };
    return { ok: true, sdp: this.#finish(sdp, to) };
  }

  /** The audio codecs last offered or answered toward `side`, in order (for a media leg). */
  negotiatedCodecs(side: RelaySide): MediaCodec[] {
    const sdp = this.#lastSent[side]?.sdp;
    return sdp === undefined ? [] : audioCodecs(sdp);
  }

  /**
   * An offer toward `to` repeating its last description with the audio formats narrowed to
   * `payloadType` (and telephone-event): makes the peer switch to the codec a media leg speaks.
   */
  narrowedOffer(to: RelaySide, payloadType: number): SdpOutcome {
    const last = this.#lastSent[to];
    if (last === undefined)
      return { ok: false, status: 500, reason: 'nothing sent to that side yet' };
    if (this.#pending !== undefined) return { ok: false, status: 491, reason: 'offer pending' };
    const sdp = cloneSdp(last.sdp);
    for (const m of sdp.media) {
      if (m.type !== 'audio' || m.port === 0) continue;
      const keep = payloadsOf(m)
        .filter((p) => p.payloadType === payloadType || p.name?.toLowerCase() === 'telephone-event')
        .map((p) => p.payloadType);
      keepPayloads(m, keep);
    }
    this.#pending = {
      from: otherSide(to),
      origin: undefined,
      sent: sdp,
      created: [],
      previous: [],
    };
    return { ok: true, sdp: this.#finish(sdp, to) };
  }

  /** The first audio stream's relay session and the address each side's peer receives on. */
  audioStream():
    { session: MediaRelaySession; remote: Partial<Record<RelaySide, RelayRemote>> } | undefined {
    const sent = this.#lastSent.a ?? this.#lastSent.b;
    const index = sent?.sdp.media.findIndex((m) => m.type === 'audio' && m.port !== 0) ?? -1;
    const stream = this.#streams[index];
    if (stream?.session === undefined || stream.session.closed) return undefined;
    return { session: stream.session, remote: stream.remote };
  }

  /** The pending offer failed (non-2xx, 491, timeout): its new sessions go, old remotes return. */
  rollback(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    const restore = pending.restore;
    if (restore !== undefined) {
      this.#origins[restore.side] = restore.origin;
      if (restore.lastSent === undefined) delete this.#lastSent[restore.side];
      else this.#lastSent[restore.side] = restore.lastSent;
      if (restore.lastReceived === undefined) delete this.#lastReceived[restore.side];
      else this.#lastReceived[restore.side] = restore.lastReceived;
    }
    for (const session of pending.created) {
      session.close();
      const stream = this.#streams.find((s) => s.session === session);
      if (stream !== undefined) stream.session = undefined;
    }
    pending.previous.forEach((remote, i) => {
      const session = this.#streams[i]?.session;
      if (remote !== undefined && session !== undefined && !session.closed)
        this.#trySetRemote(session, pending.from, remote, i);
    });
  }

  /** Closes every relay session; safe to call twice. */
  close(): void {
    this.#closed = true;
    this.#pending = undefined;
    for (const stream of this.#streams) {
      stream.session?.close();
      stream.session = undefined;
    }
  }

  #newOrigin(): SdpOrigin {
    return {
      username: this.#originUser,
      sessionId: String(randomInt(1, 2 ** 47)),
      version: randomInt(1, 2 ** 30),
    };
  }

  async #sessionFor(index: number, pending: PendingOffer): Promise<MediaRelaySession | undefined> {
    const existing = this.#streams[index]?.session;
    if (existing !== undefined && !existing.closed) return existing;
    let session: MediaRelaySession;
    try {
      session = await this.#relay.createSession();
    } catch {
      return undefined;
    }
    if (this.#closed || this.#pending !== pending) {
      session.close();
      return undefined;
    }
    pending.created.push(session);
    this.#streams[index] = { session, remote: {} };
    return session;
  }

  #setRemote(
    index: number,
    side: RelaySide,
    remote: RelayRemote | undefined,
    pending: PendingOffer | undefined,
  ): void {
    const stream = this.#streams[index];
    if (stream?.session === undefined) return;
    if (pending !== undefined) pending.previous[index] = stream.remote[side];
    // RFC 3264 §8.4: on legacy hold the peer wants nothing sent; keep the last address.
    if (remote === undefined) return;
    stream.remote[side] = remote;
    this.#trySetRemote(stream.session, side, remote, index);
  }

  #trySetRemote(
    session: MediaRelaySession,
    side: RelaySide,
    remote: RelayRemote,
    index: number,
  ): void {
    try {
      session.setRemote(side, remote);
    } catch {
      // A closed or refusing relay session: the stream stays without a remote on that side.
      const stream = this.#streams[index];
      if (stream !== undefined) delete stream.remote[side];
    }
  }

  /** Origin (version + 1 when the description changed) and session fields; remembers it. */
  #finish(sdp: Sdp, to: RelaySide): string {
    const origin = this.#origins[to];
    const address = this.#addressFor(sdp);
    setSessionFields(sdp, { ...origin, version: 0 }, address);
    const body = writeSdp(sdp);
    if (this.#lastSent[to]?.body !== body) origin.version++;
    setSessionFields(sdp, origin, address);
    this.#lastSent[to] = { body, sdp };
    return writeSdp(sdp);
  }

  /** The relay address of the first active stream (never an address of the other party). */
  #addressFor(sdp: Sdp): string {
    for (const m of sdp.media) {
      if (m.port !== 0 && m.connection !== undefined) {
        this.#address = m.connection.ip;
        return m.connection.ip;
      }
    }
    return this.#address;
  }

  #commit(rejected: readonly number[]): void {
    const pending = this.#pending;
    if (pending?.origin !== undefined) this.#lastReceived[pending.from] = pending.origin;
    this.#pending = undefined;
    // RFC 3264 §8.2: a stream answered with port 0 is gone; its relay ports are freed.
    for (const i of rejected) {
      const stream = this.#streams[i];
      stream?.session?.close();
      if (stream !== undefined) stream.session = undefined;
    }
  }
}
