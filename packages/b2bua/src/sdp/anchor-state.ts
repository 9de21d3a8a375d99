/**
 * The state a MediaAnchor keeps (relay session per stream, what each side last got from us, the
 * pending offer) as one object, so the anchor's operations can live in several small files.
 */
import { randomFillSync } from 'node:crypto';
import type {
  MediaRelay,
  MediaRelaySession,
  RelayRemote,
  RelaySide,
} from '../media/media-relay.js';
import type { CodecPolicy } from './codec-policy.js';
import { connectionAddress, writeSdp, type Sdp } from './parse-sdp.js';
import { setSessionFields, withOriginVersion, type SdpOrigin } from './rewrite-sdp.js';
import { isLegacyHold } from './sdp-direction.js';
import { SplicedSession } from './spliced-session.js';

/** The description to send on, or why there is none and what to answer the sender. */
export type SdpOutcome =
  | { ok: true; sdp: string }
  | {
      ok: false;
      status: 400 | 488 | 491 | 500 | 503;
      reason: string;
      /** RFC 3261 §20.43 warn-code for a 488: 304 media type not available, 305 incompatible format. */
      warning?: 304 | 305;
    };

export interface MediaAnchorOptions {
  relay: MediaRelay;
  /** Codecs allowed on this call (both directions). */
  codecs?: CodecPolicy | undefined;
  /** o= username (default 'switchboard'). */
  originUser?: string;
}

/** Random 32-bit numbers drawn from a pool filled in one call (one origin needs three). */
const RANDOM = new Uint32Array(512);
let randomNext = RANDOM.length;

function random32(): number {
  if (randomNext >= RANDOM.length) {
    randomFillSync(RANDOM);
    randomNext = 0;
  }
  return RANDOM[randomNext++] ?? 0;
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
  /**
   * The answer ends here: nothing is sent on (our own offer of a delayed-offer call, whose answer
   * comes in the caller's ACK).
   */
  terminal?: boolean;
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

/** The peer's receive address of every stream, in order (see `remoteOf`). */
export function remotesOf(sdp: Sdp): (RelayRemote | undefined)[] {
  return sdp.media.map((_, i) => remoteOf(sdp, i));
}

/** Relay sessions held by a stream's session (a spliced one holds two). */
export function openSessions(session: MediaRelaySession | undefined): number {
  if (session === undefined || session.closed) return 0;
  return session instanceof SplicedSession ? session.parts : 1;
}

export class AnchorState {
  readonly relay: MediaRelay;
  readonly codecs: CodecPolicy | undefined;
  readonly streams: Stream[] = [];
  readonly origins: Record<RelaySide, SdpOrigin>;
  /** What we last sent to each side (to tell a change, RFC 3264 §8). */
  readonly lastSent: Partial<Record<RelaySide, { body: string; sdp: Sdp }>> = {};
  /** The o= of the last description each side sent us, to tell a repeated one (RFC 3264 §8). */
  readonly lastReceived: Partial<Record<RelaySide, string>> = {};
  pending: PendingOffer | undefined;
  /** Last relay address written (for descriptions whose streams are all disabled). */
  address = '0.0.0.0';
  closed = false;
  readonly #originUser: string;

  constructor(options: MediaAnchorOptions) {
    this.relay = options.relay;
    this.codecs = options.codecs;
    this.#originUser = options.originUser ?? 'switchboard';
    this.origins = { a: this.newOrigin(), b: this.newOrigin() };
  }

  newOrigin(): SdpOrigin {
    // RFC 4566 §5.2: sess-id and sess-version are numbers; random ones, never 0.
    return {
      username: this.#originUser,
      sessionId: String((random32() % 2 ** 15) * 2 ** 32 + random32() || 1),
      version: random32() % 2 ** 30 || 1,
    };
  }

  /**
   * Origin (version + 1 when the description changed) and session fields; remembers it. The
   * description is written once, with version 0 to tell a change; only its o= line is redone.
   */
  finish(sdp: Sdp, to: RelaySide): string {
    const origin = this.origins[to];
    const address = this.#addressFor(sdp);
    setSessionFields(sdp, { ...origin, version: 0 }, address);
    const body = writeSdp(sdp);
    if (this.lastSent[to]?.body !== body) origin.version++;
    setSessionFields(sdp, origin, address);
    this.lastSent[to] = { body, sdp };
    return withOriginVersion(body, sdp) ?? writeSdp(sdp);
  }

  /** Gives the relay `side`'s address for stream `index`, remembering the old one for a rollback. */
  setRemote(
    index: number,
    side: RelaySide,
    remote: RelayRemote | undefined,
    pending: PendingOffer | undefined,
  ): void {
    const stream = this.streams[index];
    if (stream?.session === undefined) return;
    if (pending !== undefined) pending.previous[index] = stream.remote[side];
    // RFC 3264 §8.4: on legacy hold the peer wants nothing sent; keep the last address.
    if (remote === undefined) return;
    stream.remote[side] = remote;
    this.trySetRemote(stream.session, side, remote, index);
  }

  trySetRemote(
    session: MediaRelaySession,
    side: RelaySide,
    remote: RelayRemote,
    index: number,
  ): void {
    try {
      session.setRemote(side, remote);
    } catch {
      // A closed or refusing relay session: the stream stays without a remote on that side.
      const stream = this.streams[index];
      if (stream !== undefined) delete stream.remote[side];
    }
  }

  /** The relay session of stream `index`, made (and recorded in `pending`) when it has none. */
  async sessionFor(index: number, pending: PendingOffer): Promise<MediaRelaySession | undefined> {
    const existing = this.streams[index]?.session;
    if (existing !== undefined && !existing.closed) return existing;
    let session: MediaRelaySession;
    try {
      session = await this.relay.createSession();
    } catch {
      return undefined;
    }
    if (this.closed || this.pending !== pending) {
      session.close();
      return undefined;
    }
    pending.created.push(session);
    this.streams[index] = { session, remote: {} };
    return session;
  }

  /** The exchange completed: the offerer's o= remembered, streams answered with port 0 freed. */
  commit(rejected: readonly number[]): void {
    const pending = this.pending;
    if (pending?.origin !== undefined) this.lastReceived[pending.from] = pending.origin;
    this.pending = undefined;
    // RFC 3264 §8.2: a stream answered with port 0 is gone; its relay ports are freed.
    for (const i of rejected) {
      const stream = this.streams[i];
      stream?.session?.close();
      if (stream !== undefined) stream.session = undefined;
    }
  }

  /** The relay address of the first active stream (never an address of the other party). */
  #addressFor(sdp: Sdp): string {
    for (const m of sdp.media) {
      if (m.port !== 0 && m.connection !== undefined) {
        this.address = m.connection.ip;
        return m.connection.ip;
      }
    }
    return this.address;
  }
}
