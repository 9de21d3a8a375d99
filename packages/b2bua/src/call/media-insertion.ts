/**
 * A media leg (IVR prompt, hold music, recording) put in front of one party of an established call
 * by repointing the relay: the party keeps its relay ports, so it is not re-invited unless the
 * media leg cannot speak the codec in use — then exactly once (RFC 3264 §8), and the other party
 * is moved to that codec when the media leg goes.
 */
import type { Clock } from '@switchboard/sip-stack';
import { B2buaError, B2buaErrorCode } from '../b2bua-error.js';
import { withGlareRetry } from '../signalling/glare-retry.js';
import type { RelaySide } from '../media/media-relay.js';
import type { MediaLeg, MediaServer } from '../media/media-server.js';
import { otherSide } from '../sdp/anchor-state.js';
import type { MediaAnchor } from '../sdp/media-anchor.js';
import type { Leg } from './leg.js';

export interface MediaInsertionHost {
  readonly media: MediaAnchor;
  readonly clock: Clock;
  readonly callId: string;
  leg(side: RelaySide): Leg | undefined;
}

interface Active {
  leg: MediaLeg;
  side: RelaySide;
  /** The codec the party was moved to, when it had to change. */
  switchedTo: number | undefined;
}

function fail(message: string, code: B2buaErrorCode = B2buaErrorCode.Media): B2buaError {
  return new B2buaError(code, message);
}

export class MediaInsertion {
  readonly #host: MediaInsertionHost;
  #active: Active | undefined;

  constructor(host: MediaInsertionHost) {
    this.#host = host;
  }

  get active(): MediaLeg | undefined {
    return this.#active?.leg;
  }

  /** Puts a media leg of `server` in front of the party on `side` (default the caller). */
  async insert(server: MediaServer, side: RelaySide = 'a'): Promise<MediaLeg> {
    if (this.#active !== undefined)
      throw fail('a media leg is already attached', B2buaErrorCode.State);
    const media = this.#host.media;
    const codecs = media.negotiatedCodecs(side);
    const current = codecs[0];
    if (current === undefined || media.audioStream() === undefined)
      throw fail('the call has no audio stream');
    const mediaLeg = await server.createLeg({ callId: this.#host.callId, codecs });
    let switchedTo: number | undefined;
    if (mediaLeg.codec.payloadType !== current.payloadType) {
      const party = this.#host.leg(side);
      const ok =
        party !== undefined && (await this.#switchCodec(party, mediaLeg.codec.payloadType));
      if (!ok) {
        await mediaLeg.release();
        throw fail(`the party would not switch to ${mediaLeg.codec.name}`);
      }
      switchedTo = mediaLeg.codec.payloadType;
    }
    const stream = media.audioStream();
    if (stream === undefined) {
      await mediaLeg.release();
      throw fail('the audio stream went away');
    }
    const far = otherSide(side);
    stream.session.setRemote(far, mediaLeg.local);
    mediaLeg.connect(stream.session.side(far));
    this.#active = { leg: mediaLeg, side, switchedTo };
    return mediaLeg;
  }

  /** Points the relay back at the other party and frees the media leg. */
  async remove(): Promise<void> {
    const active = this.#active;
    if (active === undefined) return;
    this.#active = undefined;
    const far = otherSide(active.side);
    const stream = this.#host.media.audioStream();
    const remote = stream?.remote[far];
    if (stream !== undefined && remote !== undefined) {
      try {
        stream.session.setRemote(far, remote);
      } catch {
        // The relay session closed with the call.
      }
    }
    await active.leg.release();
    // The party now speaks the media leg's codec: move the other party to it (not the party again).
    const other = this.#host.leg(far);
    if (active.switchedTo !== undefined && other !== undefined)
      await this.#switchCodec(other, active.switchedTo);
  }

  /** Releases without repointing (the call ended). */
  release(): void {
    const active = this.#active;
    this.#active = undefined;
    if (active !== undefined) void active.leg.release().catch(() => undefined);
  }

  /** A re-INVITE of `leg` narrowed to `payloadType` (again after 491, RFC 3261 §14.1); true when taken. */
  async #switchCodec(leg: Leg, payloadType: number): Promise<boolean> {
    const result = await withGlareRetry(() => this.#offerCodec(leg, payloadType), {
      clock: this.#host.clock,
      ownsCallId: leg.ownsCallId,
      cancelled: () => leg.ended,
    });
    return result.status < 300;
  }

  async #offerCodec(leg: Leg, payloadType: number): Promise<{ status: number }> {
    const media = this.#host.media;
    const offer = media.narrowedOffer(leg.side, payloadType);
    if (!offer.ok) return { status: offer.status };
    let status: number;
    try {
      const response = await leg.sendOffer('INVITE', offer.sdp);
      status = response.status;
      if (status < 300) {
        const answer =
          response.body.length === 0
            ? undefined
            : media.answer(leg.side, response.body.toString('utf8'));
        if (answer?.ok === true) return { status };
        status = 488;
      }
    } catch {
      // An INVITE transaction is still in progress on that dialog: like glare, try again later.
      status = leg.ended ? 481 : 491;
    }
    media.rollback();
    return { status };
  }
}
