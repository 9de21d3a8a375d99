/**
 * Call transfer by REFER (RFC 3515), blind or attended (a Refer-To carrying Replaces, RFC 3891):
 * the B2BUA accepts the REFER itself, calls the target on behalf of the other party, reports
 * progress to the transferor in NOTIFY message/sipfrag, and puts the target's leg in the
 * transferor's place. The relay ports of the other party do not change, so it hears no
 * re-INVITE: its media stays anchored.
 */
import type { EndpointLogger, IncomingRequest, SipEndpoint } from '@switchboard/sip-stack';
import type { CallEndReason, TransferPolicy } from '../call/call-types.js';
import { Leg } from '../call/leg.js';
import { OutboundFork, type ForkAnswer, type ForkFailure } from '../call/outbound-fork.js';
import type { RelaySide } from '../media/media-relay.js';
import { otherSide } from '../sdp/anchor-state.js';
import type { MediaAnchor } from '../sdp/media-anchor.js';
import { respondSafely, retryLater } from '../signalling/call-context.js';
import { joinCalls, type ReplacedCall } from './call-join.js';
import { parseReferTo, parseReplaces, type ReferTarget, type ReplacesTarget } from './refer-to.js';

export interface TransferEvent {
  /** The transferor's side (now the target's). */
  side: RelaySide;
  target: string;
  /** Final status of the INVITE to the target (200 when the transfer succeeded). */
  status: number;
  /** Attended transfer done inside the B2BUA: the target was another of our calls, joined in. */
  joined?: boolean;
}

export interface TransferHost {
  readonly endpoint: SipEndpoint;
  readonly media: MediaAnchor;
  readonly logger: EndpointLogger;
  readonly ended: boolean;
  readonly allow: string;
  leg(side: RelaySide): Leg | undefined;
  /** While true, the end of that side's leg does not end the call (the transferor may hang up). */
  transferring(side: RelaySide, active: boolean): void;
  /** Makes `leg` the leg of its side; returns the previous one, now outside the call. */
  replaceLeg(leg: Leg): Leg | undefined;
  transferred(event: TransferEvent): void;
  end(reason: CallEndReason, side?: RelaySide): void;
  /** The call holding the dialog a Replaces names, when it is one of ours (RFC 3891 §3). */
  findReplaced(replaces: ReplacesTarget): ReplacedCall | undefined;
  /** Judges blind transfer targets; undefined allows every target. */
  readonly policy: TransferPolicy | undefined;
}

const SIPFRAG = 'message/sipfrag;version=2.0';
const TRANSFER_TIMEOUT_MS = 60_000;

export class TransferHandler {
  readonly #host: TransferHost;
  #busy = false;

  constructor(host: TransferHost) {
    this.#host = host;
  }

  /** A REFER from the leg on `side`. */
  onRefer(side: RelaySide, req: IncomingRequest): void {
    const host = this.#host;
    const transferor = host.leg(side);
    const transferee = host.leg(otherSide(side));
    if (host.ended || transferor === undefined || transferee === undefined) {
      respondSafely(req, 481);
      return;
    }
    const parsed = parseReferTo(req.request);
    if (!parsed.ok) {
      respondSafely(req, 400, { reason: parsed.reason });
      return;
    }
    // One transfer or offer at a time: try again shortly (RFC 3261 §14.2 style).
    if (this.#busy || host.media.pendingFrom !== undefined) {
      retryLater(req);
      return;
    }
    if (parsed.target.replaces !== undefined && this.#internal(side, req, parsed.target)) return;
    const policy = host.policy;
    if (policy === undefined) {
      this.#accept(side, req, parsed.target);
      return;
    }
    this.#busy = true;
    Promise.resolve()
      .then(() => policy({ side, uri: parsed.target.uri }))
      .then(
        (verdict) => {
          this.#busy = false;
          // RFC 3515 §2.4.2: a REFER the policy refuses gets a final error response.
          if (!verdict.allow) return respondSafely(req, verdict.status);
          const target = { ...parsed.target, uri: verdict.uri ?? parsed.target.uri };
          this.#accept(side, req, target);
        },
        (err: unknown) => {
          this.#busy = false;
          host.logger.error({ err }, 'transfer policy failed');
          respondSafely(req, 500);
        },
      );
  }

  #accept(side: RelaySide, req: IncomingRequest, target: ReferTarget): void {
    const host = this.#host;
    const transferor = host.leg(side);
    const transferee = host.leg(otherSide(side));
    if (host.ended || transferor === undefined || transferee === undefined) {
      respondSafely(req, 481);
      return;
    }
    const offer = host.media.offerToNewPeer(side);
    if (!offer.ok) {
      retryLater(req);
      return;
    }
    this.#busy = true;
    // RFC 3515 §2.4.2: accepted; progress follows in NOTIFY.
    respondSafely(req, 202);
    host.transferring(side, true);
    const referredBy =
      req.request.headers.get('Referred-By') ?? `<${transferor.dialog.dialog.remoteUri}>`;
    const notify = this.#notifier(transferor);
    void notify(100, 'Trying', false);
    const fork = new OutboundFork(host.endpoint, { timeoutMs: TRANSFER_TIMEOUT_MS });
    fork.on('provisional', (r) => {
      if (r.status >= 180) void notify(r.status, r.reason, false);
    });
    fork.on('answered', (a) => void this.#onAnswered(side, target, a, notify));
    fork.on('failed', (f) => this.#onFailed(side, target, f, notify));
    fork.start([{ uri: target.uri }], () => ({
      uri: target.uri,
      from: `<${transferee.dialog.dialog.remoteUri}>`,
      to: `<${target.uri}>`,
      headers: {
        ...target.headers,
        'Referred-By': referredBy,
        ...(target.replaces === undefined ? {} : { Replaces: target.replaces }),
        Allow: host.allow,
      },
      body: offer.sdp,
      maxForwards: 70,
    }));
  }

  /** Attended transfer to another of our calls: joined here (true), or the REFER answered (true). */
  #internal(side: RelaySide, req: IncomingRequest, target: ReferTarget): boolean {
    const host = this.#host;
    const replaces = parseReplaces(target.replaces ?? '');
    if (replaces === undefined) {
      respondSafely(req, 400, { reason: 'bad Replaces in Refer-To' });
      return true;
    }
    const replaced = host.findReplaced(replaces);
    if (replaced === undefined) return false; // not ours: the target gets the Replaces header
    if (replaced.self) {
      respondSafely(req, 400, { reason: 'Replaces names the dialog of this call' });
      return true;
    }
    const transferor = host.leg(side);
    if (transferor === undefined) return false;
    this.#busy = true;
    host.transferring(side, true);
    const done = (): void => {
      this.#busy = false;
      host.transferring(side, false);
      if (host.leg(side)?.ended === true && host.leg(side) === transferor) host.end('hangup', side);
    };
    joinCalls({
      host,
      side,
      refer: req,
      target,
      earlyOnly: replaces.earlyOnly,
      replaced,
      notify: this.#notifier(transferor),
    }).then(done, (err: unknown) => {
      host.logger.error({ err }, 'attended transfer failed');
      done();
    });
    return true;
  }

  async #onAnswered(
    side: RelaySide,
    target: ReferTarget,
    answer: ForkAnswer,
    notify: Notifier,
  ): Promise<void> {
    const host = this.#host;
    this.#busy = false;
    host.transferring(side, false);
    if (host.ended) {
      void answer.dialog.bye().catch(() => undefined);
      return;
    }
    const body = answer.response.body.toString('utf8');
    const sdp = body === '' ? undefined : host.media.answer(side, body);
    if (sdp === undefined || !sdp.ok) {
      host.media.rollback();
      void answer.dialog.bye().catch(() => undefined);
      await notify(488, 'Not Acceptable Here', true);
      this.#afterFailure(side, target, 488);
      return;
    }
    const leg = new Leg(side, 'uac', answer.dialog, answer.response.headers.values('Allow'));
    const previous = host.replaceLeg(leg);
    await notify(200, 'OK', true);
    // RFC 5589 §6.1: the transferor normally hangs up after the final NOTIFY; make sure it does.
    void previous?.hangup();
    host.transferred({ side, target: target.uri, status: 200 });
  }

  #onFailed(side: RelaySide, target: ReferTarget, failure: ForkFailure, notify: Notifier): void {
    this.#busy = false;
    this.#host.transferring(side, false);
    this.#host.media.rollback();
    void notify(failure.status, failure.reason, true);
    this.#afterFailure(side, target, failure.status);
  }

  /** The transfer failed: the transferor keeps its call, unless it hung up meanwhile. */
  #afterFailure(side: RelaySide, target: ReferTarget, status: number): void {
    const host = this.#host;
    host.transferred({ side, target: target.uri, status });
    if (host.leg(side)?.ended === true) host.end('hangup', side);
  }

  /** RFC 3515 §2.4.4: NOTIFY with Event: refer and a message/sipfrag status line. */
  #notifier(transferor: Leg): Notifier {
    return async (status, reason, final) => {
      if (transferor.ended) return;
      try {
        await transferor.dialog.request('NOTIFY', {
          headers: {
            Event: 'refer',
            'Subscription-State': final ? 'terminated;reason=noresource' : 'active;expires=60',
          },
          body: `SIP/2.0 ${status} ${reason}\r\n`,
          contentType: SIPFRAG,
        });
      } catch {
        // The transferor may have hung up already; the transfer goes on without reports.
      }
    };
  }
}

/** Reports a transfer's progress to the transferor (NOTIFY message/sipfrag). */
export type Notifier = (status: number, reason: string, final: boolean) => Promise<void>;
