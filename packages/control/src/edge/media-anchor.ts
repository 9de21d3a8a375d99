/**
 * Media anchoring of proxied calls on the native relay. Session descriptions are rewritten on
 * their way out of the node: a transport wrapper sees every message the proxy and the
 * transaction layer send (first transmissions, forwarded 2xx retransmissions), so the offer
 * toward the callee names relay side B and the answer toward the caller names relay side A,
 * whichever message (INVITE, 18x, 2xx, ACK, re-INVITE) carries them.
 */
import type {
  Flow,
  ListeningPoint,
  SendReport,
  SipMessage,
  Target,
  TransportLayer,
} from '@switchboard/sip-stack';
import type { AnchoredMedia, EdgeCalls } from './edge-calls.js';
import type { EdgeLogger, MediaMode } from './edge-options.js';
import { anchorSdp, readSdpEndpoint } from './sdp-anchor.js';

/** Creates relay sessions (RtpRelay satisfies it through a small adapter). */
export interface MediaRelayPort {
  createSession(): AnchoredMedia;
}

/** `application/sdp`, any case, optionally followed by parameters. */
const SDP_TYPE = /^\s*application\/sdp\s*(?:;|$)/i;

function isSdp(message: SipMessage): boolean {
  const body = message.body;
  if (body.length === 0) return false;
  const type = message.headers.get('Content-Type');
  // RFC 3261 §20.15: a body without Content-Type is not ours to interpret, except bare SDP.
  if (type === undefined) return body.length >= 2 && body[0] === 0x76 && body[1] === 0x3d; // "v="
  return SDP_TYPE.test(type);
}

/** Which relay side a message goes to: requests of the caller and responses to the callee go to B. */
export function sideToward(message: SipMessage, callerTag: string | undefined): 'a' | 'b' {
  const fromCaller = message.fromTag === callerTag;
  return (message.kind === 'request') === fromCaller ? 'b' : 'a';
}

export class MediaAnchor {
  readonly #relay: MediaRelayPort | undefined;
  readonly #mode: MediaMode;
  readonly #calls: EdgeCalls;
  readonly #log: EdgeLogger;

  constructor(options: {
    relay: MediaRelayPort | undefined;
    mode: MediaMode;
    calls: EdgeCalls;
    logger: EdgeLogger;
  }) {
    this.#relay = options.relay;
    this.#mode = options.relay === undefined ? 'never' : options.mode;
    this.#calls = options.calls;
    this.#log = options.logger;
  }

  get mode(): MediaMode {
    return this.#mode;
  }

  /**
   * Whether a new call is anchored: always; never; or `nat` when the caller's SDP address is not
   * where its request came from, or a callee registered through a NAT.
   */
  wanted(offer: Buffer, flow: Flow, calleeNated: boolean): boolean {
    if (this.#mode !== 'nat') return this.#mode === 'always';
    if (calleeNated) return true;
    const sdp = readSdpEndpoint(offer.toString('utf8'));
    return sdp.ok && sdp.endpoint.address !== flow.remote.address;
  }

  /** A relay session for the call, or undefined (logged) when the relay cannot give one. */
  open(callId: string): AnchoredMedia | undefined {
    try {
      return this.#relay?.createSession();
    } catch (err) {
      this.#log.warn({ err, callId }, 'media not anchored: relay session failed');
      return undefined;
    }
  }

  /** A final response to a forwarded BYE on its way out ends the call (EdgeCalls.byeAnswered). */
  observe(message: SipMessage): void {
    if (message.kind !== 'response' || message.status < 200) return;
    if (!this.#calls.byePending(message.callId) || message.cseq.method !== 'BYE') return;
    void this.#calls.byeAnswered(message.callId, message.status);
  }

  /** Rewrites the SDP of an outgoing message of an anchored call; never throws. */
  rewrite(message: SipMessage): void {
    const call = this.#calls.get(message.callId);
    const media = call?.media;
    if (call === undefined || media === undefined || media.closed) return;
    if (!isSdp(message)) return;
    const toward = sideToward(message, call.callerTag);
    // one pass: where this side wants its media, and the body pointing at the relay instead
    const anchored = anchorSdp(message.body.toString('utf8'), media[toward]);
    if (!anchored.ok) {
      this.#log.debug({ callId: call.callId, reason: anchored.reason }, 'SDP left as is');
      return;
    }
    try {
      const e = anchored.endpoint;
      media.setRemote(toward === 'b' ? 'a' : 'b', {
        address: e.address,
        rtpPort: e.rtpPort,
        rtcpMux: e.rtcpMux,
        ...(e.rtcpPort === undefined ? {} : { rtcpPort: e.rtcpPort }),
      });
    } catch (err) {
      this.#log.warn({ err, callId: call.callId }, 'relay refused the SDP address');
      return;
    }
    message.body = Buffer.from(anchored.text, 'utf8');
  }
}

/**
 * The transport as the transaction layer and the proxy see it: every send passes through the
 * media anchor first. Bytes sent again (retransmissions) were rewritten on their first send.
 */
export class AnchoringTransport {
  readonly #inner: TransportLayer;
  readonly #anchor: MediaAnchor;

  constructor(inner: TransportLayer, anchor: MediaAnchor) {
    this.#inner = inner;
    this.#anchor = anchor;
  }

  send(message: SipMessage, target: Target, report?: SendReport): Promise<Flow> | undefined {
    this.#anchor.rewrite(message);
    this.#anchor.observe(message);
    // the promise form when no report is given; the bench may replace `send` on the layer
    return report === undefined
      ? this.#inner.send(message, target)
      : this.#inner.send(message, target, report);
  }

  sendBuffer(data: Buffer, target: Target, report?: SendReport): Promise<Flow> | undefined {
    return report === undefined
      ? this.#inner.sendBuffer(data, target)
      : this.#inner.sendBuffer(data, target, report);
  }

  listeningPoints(): readonly ListeningPoint[] {
    return this.#inner.listeningPoints();
  }
}
