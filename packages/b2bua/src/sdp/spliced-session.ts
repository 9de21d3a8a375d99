/**
 * Two relay sessions joined back to back, for an attended transfer completed inside the B2BUA
 * (RFC 3891 Replaces naming another of our calls). Each remaining party keeps the relay ports it
 * already sends to, so neither is re-invited: the sessions' inner sides (the ones that faced the
 * transferor) send to each other.
 *
 *   transferee ── near[keep] ═ near[inner] ⇄ far[inner] ═ far[outer] ── target
 *
 * Seen from the call it is one session: side `keep` is near's, the other side is far's outer side.
 */
import type {
  MediaRelaySession,
  MediaRelaySessionEvents,
  MediaRelayStats,
  RelayLocal,
  RelayRemote,
  RelaySide,
} from '../media/media-relay.js';

function other(side: RelaySide): RelaySide {
  return side === 'a' ? 'b' : 'a';
}

/** Where a relay side receives, as a remote for another relay side. */
function asRemote(local: RelayLocal): RelayRemote {
  return {
    address: local.address,
    rtpPort: local.rtpPort,
    ...(local.rtcpPort === undefined ? { rtcpMux: true } : { rtcpPort: local.rtcpPort }),
  };
}

export class SplicedSession implements MediaRelaySession {
  readonly id: string;
  readonly #near: MediaRelaySession;
  readonly #far: MediaRelaySession;
  /** The call side carried by `near` (the transferee's). */
  readonly #keep: RelaySide;
  /** The side of `far` facing the target. */
  readonly #outer: RelaySide;

  private constructor(
    near: MediaRelaySession,
    keep: RelaySide,
    far: MediaRelaySession,
    outer: RelaySide,
  ) {
    this.#near = near;
    this.#keep = keep;
    this.#far = far;
    this.#outer = outer;
    this.id = `${String(near.id)}+${String(far.id)}`;
  }

  /**
   * Joins `near` (whose side `keep` faces the transferee) and `far` (whose side `outer` faces the
   * target); undefined when the relay refuses (a session already closed).
   */
  static splice(
    near: MediaRelaySession,
    keep: RelaySide,
    far: MediaRelaySession,
    outer: RelaySide,
  ): SplicedSession | undefined {
    if (near.closed || far.closed) return undefined;
    try {
      near.setRemote(other(keep), asRemote(far.side(other(outer))));
      far.setRemote(other(outer), asRemote(near.side(other(keep))));
    } catch {
      return undefined;
    }
    return new SplicedSession(near, keep, far, outer);
  }

  /** Relay sessions held (two, or more when a spliced call is joined again). */
  get parts(): number {
    const count = (s: MediaRelaySession): number => (s instanceof SplicedSession ? s.parts : 1);
    return count(this.#near) + count(this.#far);
  }

  get closed(): boolean {
    return this.#near.closed || this.#far.closed;
  }

  side(side: RelaySide): RelayLocal {
    return side === this.#keep ? this.#near.side(side) : this.#far.side(this.#outer);
  }

  setRemote(side: RelaySide, remote: RelayRemote): void {
    if (side === this.#keep) this.#near.setRemote(side, remote);
    else this.#far.setRemote(this.#outer, remote);
  }

  stats(): MediaRelayStats {
    const kept = this.#near.stats()[this.#keep];
    const moved = this.#far.stats()[this.#outer];
    return this.#keep === 'a' ? { a: kept, b: moved } : { a: moved, b: kept };
  }

  close(): void {
    this.#near.close();
    this.#far.close();
  }

  on<K extends keyof MediaRelaySessionEvents>(
    event: K,
    listener: (...args: MediaRelaySessionEvents[K]) => void,
  ): this {
    this.#near.on(event, listener);
    this.#far.on(event, listener);
    return this;
  }
}
