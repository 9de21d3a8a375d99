/**
 * A call the B2BUA is party to: the caller's leg (we answered its INVITE), the callee legs we
 * forked to, and the media anchored on the relay between them. This file holds the set-up and
 * tear-down; SDP is in `sdp/`, in-call requests and timers in `signalling/`.
 */
import { TypedEmitter } from '@switchboard/sip-stack';
import type {
  Clock,
  EndpointLogger,
  HeaderValues,
  IncomingRequest,
  SipEndpoint,
  TerminationReason,
} from '@switchboard/sip-stack';
import { B2buaError, B2buaErrorCode } from '../b2bua-error.js';
import type { MediaRelay, RelaySide } from '../media/media-relay.js';
import { otherSide } from '../sdp/anchor-state.js';
import { MediaAnchor } from '../sdp/media-anchor.js';
import { respondSafely, type CallContext } from '../signalling/call-context.js';
import { OfferRelay } from '../signalling/offer-relay.js';
import { RequestRelay } from '../signalling/request-relay.js';
import { SessionRefresh } from '../signalling/session-refresh.js';
import { SessionTimer, uacSettings, type TimerSettings } from '../signalling/session-timer.js';
import type { MediaLeg, MediaServer } from '../media/media-server.js';
import type { JoinDonor } from '../transfer/call-join.js';
import { TransferHandler, type TransferHost } from '../transfer/transfer.js';
import { MediaInsertion } from './media-insertion.js';
import { CallState, CallStateMachine } from './call-state.js';
import type { CallEnd, CallEndReason, CallEvents, CallPlan } from './call-types.js';
import { answerCaller } from './answer-caller.js';
import { callerStatus } from './call-helpers.js';
import { CallerProgress } from './caller-progress.js';
import { admitInvite, mediaWarning } from './check-invite.js';
import { Leg } from './leg.js';
import type { ForkAnswer, ForkFailure, OutboundFork } from './outbound-fork.js';
import { ALLOW, outboundRequest, planFork } from './outbound-request.js';
import { findReplaced, type CallRegistry } from './call-registry.js';
import { CallLegs } from './call-legs.js';

export interface CallOptions {
  id: string;
  endpoint: SipEndpoint;
  /** The caller's INVITE. */
  incoming: IncomingRequest;
  plan: CallPlan;
  relay: MediaRelay;
  clock: Clock;
  logger: EndpointLogger;
  registry?: CallRegistry;
}

export class Call extends TypedEmitter<CallEvents> {
  readonly id: string;
  readonly caller: IncomingRequest;
  readonly media: MediaAnchor;
  readonly ended: Promise<CallEnd>;
  readonly #options: CallOptions;
  readonly #sm: CallStateMachine;
  readonly #legs: CallLegs;
  readonly #timers: Partial<Record<RelaySide, SessionTimer>> = {};
  readonly #ctx: CallContext;
  readonly #offers: OfferRelay;
  readonly #requests: RequestRelay;
  readonly #refresh: SessionRefresh;
  readonly #transfers: TransferHandler;
  readonly #mediaLeg: MediaInsertion;
  readonly #progress: CallerProgress;
  /** Sides whose leg is being transferred away: its end does not end the call. */
  readonly #transferring = new Set<RelaySide>();
  #fork: OutboundFork | undefined;
  #end: CallEnd | undefined;
  #resolveEnded!: (end: CallEnd) => void;
  #callerTimer: { settings: TimerSettings | undefined; headers: HeaderValues } = {
    settings: undefined,
    headers: {},
  };
  /** The caller's INVITE had no offer (RFC 3264 §5): we offer in our 2xx, it answers in its ACK. */
  #delayedOffer = false;
  #releaseChannels: () => void = () => undefined;

  constructor(options: CallOptions) {
    super();
    this.id = options.id;
    this.caller = options.incoming;
    this.#options = options;
    this.media = new MediaAnchor({ relay: options.relay, codecs: options.plan.policy?.codecs });
    this.#sm = new CallStateMachine((state, previous) => this.emit('state', state, previous));
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.#ctx = this.#context();
    this.#offers = new OfferRelay(this.#ctx);
    this.#requests = new RequestRelay(this.#ctx);
    this.#legs = this.#callLegs();
    this.#refresh = new SessionRefresh(this.#ctx);
    this.#transfers = new TransferHandler(this.#transferHost());
    this.#progress = this.#callerProgress();
    this.#mediaLeg = new MediaInsertion({
      media: this.media,
      clock: options.clock,
      callId: this.id,
      leg: (side) => this.#legs.get(side),
    });
    this.setListenerErrorHandler((err, event) =>
      options.logger.error(
        { err, event, callId: this.caller.request.callId },
        'call listener threw',
      ),
    );
  }

  get state(): CallState {
    return this.#sm.state;
  }

  get end(): CallEnd | undefined {
    return this.#end;
  }

  /** The leg on a side: 'a' the caller's, 'b' the answering callee's. */
  leg(side: RelaySide): Leg | undefined {
    return this.#legs.get(side);
  }

  timer(side: RelaySide): SessionTimer | undefined {
    return this.#timers[side];
  }

  /** Runs the call: checks the caller's INVITE, anchors its offer and forks to the targets. */
  async start(): Promise<void> {
    const { incoming: req, plan } = this.#options;
    req.on('cancel', this.#onCancel);
    const admission = admitInvite(req.request, plan);
    if (!admission.ok) {
      this.#refuse(admission.status, admission.reason, admission.headers, admission.end);
      return;
    }
    this.#releaseChannels = admission.releaseChannels;
    this.#callerTimer = admission.callerTimer;
    this.#delayedOffer = admission.offer === undefined;
    const offer =
      admission.offer === undefined
        ? await this.media.localOffer('b')
        : await this.media.offer('a', admission.offer);
    if (this.#end !== undefined) return; // cancelled while the relay allocated ports
    if (!offer.ok) {
      const headers =
        offer.status === 503
          ? { 'Retry-After': '5' }
          : mediaWarning(offer.status, offer.reason, offer.warning);
      this.#refuse(offer.status, offer.reason, headers, 'media-failed');
      return;
    }
    if (plan.targets.length === 0) {
      this.#refuse(480, 'Temporarily Unavailable', {}, 'rejected');
      return;
    }
    const fork = planFork(this.#options.endpoint, this.#options.clock, plan);
    this.#fork = fork;
    fork.on('provisional', (r) => this.#progress.relay(r));
    fork.on('answered', (a) => this.#onAnswered(a));
    fork.on('failed', (f) => this.#onForkFailed(f));
    const host = this.#options.endpoint.listeningPoints()[0]?.local.address ?? 'invalid';
    fork.start(plan.targets, (target) =>
      outboundRequest({
        incoming: req,
        plan,
        host,
        target,
        sdp: offer.sdp,
        maxForwards: admission.maxForwards,
      }),
    );
  }

  /**
   * Puts a media leg (prompts, hold music, recording) in front of the party on `side`: the relay
   * sends that party's media to the leg and the leg's to the party. The party is re-invited only
   * if the leg cannot speak the codec in use (once). Needs an answered call.
   */
  async insertMedia(server: MediaServer, side: RelaySide = 'a'): Promise<MediaLeg> {
    if (this.#sm.state !== CallState.Answered)
      throw new B2buaError(B2buaErrorCode.State, 'the call is not answered');
    return this.#mediaLeg.insert(server, side);
  }

  /** Removes the media leg; the parties hear each other again. */
  removeMedia(): Promise<void> {
    return this.#mediaLeg.remove();
  }

  /** Ends the call: CANCEL/487 before an answer, BYE on both legs after. */
  hangup(): void {
    this.#finish('local', { status: 487 });
  }

  /**
   * Attended transfer between two calls of one B2bua: what this call gives up when the party on
   * `side` is joined into another call. Undefined unless the call is answered and idle.
   */
  joinDonor(side: RelaySide): JoinDonor | undefined {
    const leg = this.#legs.get(side);
    const idle =
      this.#transferring.size === 0 &&
      this.#mediaLeg.active === undefined &&
      this.media.pendingFrom === undefined;
    if (this.state !== CallState.Answered || leg === undefined || leg.ended || !idle)
      return undefined;
    return {
      media: this.media,
      leg,
      side,
      surrender: () => {
        this.#legs.remove(side, leg);
        this.#timers[side]?.stop();
        delete this.#timers[side];
        this.#finish('replaced', { side: otherSide(side) });
      },
    };
  }

  #onAnswered({ dialog, response }: ForkAnswer): void {
    if (this.#end !== undefined) {
      // RFC 3261 §15: an answer nobody wants any more (the caller cancelled) is hung up.
      void dialog.bye().catch(() => undefined);
      return;
    }
    const legB = new Leg('b', 'uac', dialog, response.headers.values('Allow'));
    this.#legs.attach(legB);
    this.emit('leg', legB);
    const result = answerCaller(
      {
        caller: this.caller,
        media: this.media,
        logger: this.#options.logger,
        delayedOffer: this.#delayedOffer,
        headers: this.#callerTimer.headers,
        badAnswer: (reason) => {
          this.#options.logger.info(
            { callId: this.caller.request.callId, reason },
            'bad answer in ACK',
          );
          // No usable answer: the session cannot start; BYE to both legs.
          this.#finish('media-failed', { side: 'a' });
        },
      },
      response,
    );
    if (!result.ok) {
      if (result.status === undefined) this.#finish('error', { side: 'a' });
      else this.#refuse(result.status, result.reason, result.headers, 'media-failed');
      return;
    }
    const legA = new Leg('a', 'uas', result.dialog, this.caller.request.headers.values('Allow'));
    this.#legs.attach(legA);
    this.emit('leg', legA);
    this.#sm.transition(CallState.Answered);
    this.#startTimer(legA, this.#callerTimer.settings);
    if (this.#options.plan.sessionTimer !== undefined)
      this.#startTimer(legB, uacSettings(response));
    this.emit('answered');
  }

  #onLegEnded(leg: Leg, reason: TerminationReason): void {
    if (this.#end !== undefined || this.#legs.get(leg.side) !== leg) return;
    if (this.#transferring.has(leg.side)) return;
    const map: Partial<Record<TerminationReason, CallEndReason>> = {
      'remote-bye': 'hangup',
      'ack-timeout': 'ack-timeout',
      'request-failed': 'dialog-failed',
    };
    this.#finish(map[reason] ?? 'error', { side: leg.side });
  }

  #startTimer(leg: Leg, settings: TimerSettings | undefined): void {
    if (settings === undefined) return;
    const timer = new SessionTimer(this.#options.clock, settings, {
      refresh: () => void this.#refresh.refresh(leg),
      expired: () => this.#finish('session-expired', { side: leg.side }),
    });
    this.#timers[leg.side] = timer;
    timer.refreshed();
  }

  #onForkFailed(failure: ForkFailure): void {
    if (this.#end !== undefined) return;
    const status = callerStatus(failure.status);
    this.#refuse(status, failure.reason, {}, failure.noAnswer ? 'no-answer' : 'rejected');
  }

  /** A final non-2xx to the caller (when it has none yet), then the end. */
  #refuse(status: number, reason: string, headers: HeaderValues, end: CallEndReason): void {
    respondSafely(this.caller, status, { reason, headers });
    this.#finish(end, { status });
  }

  #finish(reason: CallEndReason, extra: { status?: number; side?: RelaySide } = {}): void {
    if (this.#end !== undefined) return;
    const end: CallEnd = { reason, ...extra };
    this.#end = end;
    this.#fork?.cancel();
    for (const timer of Object.values(this.#timers)) timer.stop();
    // The caller always gets a final response (RFC 3261 §13.3.1): 500 when nothing better is known.
    if (!this.caller.responded) respondSafely(this.caller, extra.status ?? 500);
    for (const leg of this.#legs.all()) void leg.hangup();
    this.#mediaLeg.release();
    this.media.close();
    this.#releaseChannels();
    this.#sm.transition(CallState.Ended);
    this.emit('ended', end);
    this.#resolveEnded(end);
    // What the SIP stack keeps after the call (transactions, dialogs) no longer holds it.
    this.caller.off('cancel', this.#onCancel);
    this.#fork?.release();
    this.#legs.release();
  }

  readonly #onCancel = (): void => this.#finish('caller-cancelled', { status: 487, side: 'a' });

  #callLegs(): CallLegs {
    return new CallLegs({
      offers: this.#offers,
      requests: this.#requests,
      refer: (side, req) => {
        if (this.#ctx.refer === undefined) respondSafely(req, 501);
        else this.#ctx.refer(side, req);
      },
      legEnded: (leg, reason) => this.#onLegEnded(leg, reason),
    });
  }

  #context(): CallContext {
    const isEnded = (): boolean => this.#end !== undefined;
    return {
      clock: this.#options.clock,
      logger: this.#options.logger,
      media: this.media,
      get ended() {
        return isEnded();
      },
      leg: (side) => this.#legs.get(side),
      timer: (side) => this.#timers[side],
      renegotiated: (from) => this.emit('renegotiated', from),
      info: (from, type, body) => this.emit('info', from, type, body),
      refer: (side, req) => this.#transfers.onRefer(side, req),
      end: (reason, side) => this.#finish(reason, side === undefined ? {} : { side }),
    };
  }

  #callerProgress(): CallerProgress {
    const isEnded = (): boolean => this.#end !== undefined;
    const isDelayed = (): boolean => this.#delayedOffer;
    return new CallerProgress({
      caller: this.caller,
      media: this.media,
      logger: this.#options.logger,
      get ended() {
        return isEnded();
      },
      get delayedOffer() {
        return isDelayed();
      },
      advance: (state) => this.#sm.advance(state),
      progress: (response) => this.emit('progress', response),
    });
  }

  #transferHost(): TransferHost {
    const isEnded = (): boolean => this.#end !== undefined;
    return {
      endpoint: this.#options.endpoint,
      media: this.media,
      logger: this.#options.logger,
      allow: ALLOW,
      get ended() {
        return isEnded();
      },
      leg: (side) => this.#legs.get(side),
      transferring: (side, active) => {
        if (active) this.#transferring.add(side);
        else this.#transferring.delete(side);
      },
      replaceLeg: (leg) => {
        const previous = this.#legs.get(leg.side);
        // The old leg's session timer goes with it; the new leg runs without one.
        this.#timers[leg.side]?.stop();
        delete this.#timers[leg.side];
        this.#legs.attach(leg);
        this.emit('leg', leg);
        return previous;
      },
      transferred: (event) => this.emit('transferred', event),
      end: (reason, side) => this.#finish(reason, side === undefined ? {} : { side }),
      findReplaced: (replaces) => findReplaced(this.#options.registry, this, replaces),
      policy: this.#options.plan.transfer,
    };
  }
}
