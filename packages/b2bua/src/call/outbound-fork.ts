/**
 * The outgoing side of a call: one INVITE per target, all at once ('parallel', each after its own
 * delay) or step after step ('sequential', RFC 3261 §16.6 sequential search), each target with its
 * own timeout. The first 2xx wins and the other branches are cancelled (a late 2xx is acknowledged
 * and hung up, RFC 3261 §13.2.2.4); a 6xx ends the search (§16.7 item 10); when every branch
 * failed, the best final response is chosen as a proxy would (RFC 3261 §16.7).
 */
import {
  EndpointError,
  EndpointErrorCode,
  TypedEmitter,
  chooseBestResponse,
  systemClock,
} from '@switchboard/sip-stack';
import type {
  Clock,
  DialogSession,
  HeaderValues,
  OutgoingInvite,
  SipEndpoint,
  SipResponse,
  TimerHandle,
} from '@switchboard/sip-stack';
import type { OutboundTarget, RingStrategy } from './call-types.js';

export interface ForkRequest {
  uri: string;
  from: string;
  to: string;
  headers: HeaderValues;
  body: string;
  maxForwards: number;
}

export interface ForkAnswer {
  dialog: DialogSession;
  response: SipResponse;
  target: OutboundTarget;
}

/** Why every branch failed: the best response, or a local failure mapped to a status. */
export interface ForkFailure {
  status: number;
  reason: string;
  response: SipResponse | undefined;
  /** Every branch timed out or was cancelled by the answer timer. */
  noAnswer: boolean;
}

export type OutboundForkEvents = {
  provisional: [response: SipResponse, target: OutboundTarget];
  answered: [answer: ForkAnswer];
  failed: [failure: ForkFailure];
};

interface Branch {
  target: OutboundTarget;
  /** Undefined when the INVITE could not even be built (bad URI). */
  invite: OutgoingInvite | undefined;
  onProvisional?: (response: SipResponse) => void;
  done: boolean;
  response?: SipResponse;
  error?: EndpointError;
}

/** RFC 4028 §6: 422 carries the smallest interval the callee takes; we retry once with it. */
export type IntervalRetry = (
  response: SipResponse,
  headers: HeaderValues,
) => HeaderValues | undefined;

export interface OutboundForkOptions {
  /** No answer from any target within this many ms: everything is cancelled (0 = no limit). */
  timeoutMs: number;
  ring?: RingStrategy;
  clock?: Clock;
  retry422?: IntervalRetry;
}

/** Targets grouped into the steps they ring in. */
function ringSteps(targets: readonly OutboundTarget[], ring: RingStrategy): OutboundTarget[][] {
  if (ring === 'parallel') return targets.length === 0 ? [] : [[...targets]];
  const byStep = new Map<number, OutboundTarget[]>();
  targets.forEach((t, i) => {
    const step = t.step ?? i;
    byStep.set(step, [...(byStep.get(step) ?? []), t]);
  });
  return [...byStep.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
}

export class OutboundFork extends TypedEmitter<OutboundForkEvents> {
  readonly #endpoint: SipEndpoint;
  readonly #branches: Branch[] = [];
  readonly #options: OutboundForkOptions;
  readonly #clock: Clock;
  readonly #timers = new Set<TimerHandle>();
  #steps: OutboundTarget[][] = [];
  #step = -1;
  #request: (t: OutboundTarget) => ForkRequest = () => {
    throw new Error('fork not started');
  };
  /** Delayed targets of the current step not sent yet. */
  #scheduled = 0;
  #settled = false;
  #cancelled = false;
  /** A 6xx: no further branch or step (RFC 3261 §16.7 item 10). */
  #global = false;

  constructor(endpoint: SipEndpoint, options: OutboundForkOptions) {
    super();
    this.#endpoint = endpoint;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Rings the targets per the strategy. */
  start(targets: readonly OutboundTarget[], request: (t: OutboundTarget) => ForkRequest): void {
    this.#request = request;
    this.#steps = ringSteps(targets, this.#options.ring ?? 'parallel');
    if (this.#options.timeoutMs > 0)
      this.#later(this.#options.timeoutMs, () => this.#onAnswerTimeout());
    this.#nextStep();
  }

  /**
   * The call is over: the INVITEs (which the SIP stack keeps a while, RFC 6026) drop the fork's
   * listeners, so they do not hold it. No provisional event after this.
   */
  release(): void {
    for (const b of this.#branches)
      if (b.onProvisional !== undefined) b.invite?.off('provisional', b.onProvisional);
  }

  /** Cancels every branch still pending (CANCEL once it rang; RFC 3261 §9.1). */
  cancel(): void {
    this.#cancelled = true;
    this.#stopTimers();
    for (const b of this.#branches) if (!b.done) b.invite?.cancel();
  }

  #later(ms: number, fn: () => void): void {
    const handle = this.#clock.setTimeout(() => {
      this.#timers.delete(handle);
      fn();
    }, ms);
    this.#timers.add(handle);
  }

  #stopTimers(): void {
    for (const handle of this.#timers) this.#clock.clearTimeout(handle);
    this.#timers.clear();
    this.#scheduled = 0;
  }

  /** Nobody answered in time: the caller hears 480 now, late branches are cancelled. */
  #onAnswerTimeout(): void {
    if (this.#settled) return;
    this.cancel();
    this.#settled = true;
    // RFC 3261 §21.4.18: 480 Temporarily Unavailable.
    this.emit('failed', {
      status: 480,
      reason: 'Temporarily Unavailable',
      response: undefined,
      noAnswer: true,
    });
  }

  #nextStep(): void {
    this.#step++;
    const group = this.#steps[this.#step] ?? [];
    for (const target of group) {
      const delay = target.delayMs ?? 0;
      if (delay <= 0) {
        this.#send(target, this.#request(target), false);
        continue;
      }
      this.#scheduled++;
      this.#later(delay, () => {
        this.#scheduled--;
        if (!this.#settled && !this.#cancelled && !this.#global)
          this.#send(target, this.#request(target), false);
        this.#advance();
      });
    }
    this.#advance();
  }

  /** Every branch of the step is done: the next step, or the outcome. */
  #advance(): void {
    if (this.#settled || this.#scheduled > 0 || this.#branches.some((b) => !b.done)) return;
    const stop = this.#cancelled || this.#global;
    if (!stop && this.#step + 1 < this.#steps.length) this.#nextStep();
    else this.#settle();
  }

  get pending(): number {
    return this.#branches.filter((b) => !b.done).length;
  }

  #send(target: OutboundTarget, req: ForkRequest, retried: boolean): void {
    let invite: OutgoingInvite;
    try {
      invite = this.#endpoint.invite({
        uri: req.uri,
        from: req.from,
        to: req.to,
        headers: { ...req.headers, ...target.headers },
        body: req.body,
        contentType: 'application/sdp',
        maxForwards: req.maxForwards,
        // Per-target limit; the fork's answer timer covers the rest (0: the endpoint never cancels).
        timeoutMs: target.timeoutMs ?? 0,
        ...(target.target === undefined ? {} : { target: target.target }),
        ...(target.route === undefined ? {} : { route: target.route }),
        ...(target.credentials === undefined ? {} : { credentials: target.credentials }),
      });
    } catch (err) {
      const error =
        err instanceof EndpointError
          ? err
          : new EndpointError(EndpointErrorCode.Argument, String(err));
      this.#branches.push({ target, invite: undefined, done: true, error });
      return;
    }
    const onProvisional = (r: SipResponse): void => {
      if (!this.#settled && r.status > 100) this.emit('provisional', r, target);
    };
    const branch: Branch = { target, invite, done: false, onProvisional };
    this.#branches.push(branch);
    invite.on('provisional', onProvisional);
    invite.then(
      ({ dialog, response }) => this.#onAnswer(branch, dialog, response),
      (err: unknown) => this.#onFailure(branch, err, req, retried),
    );
  }

  #onAnswer(branch: Branch, dialog: DialogSession, response: SipResponse): void {
    branch.done = true;
    branch.response = response;
    if (this.#settled) {
      // RFC 3261 §13.2.2.4: a second fork answered after the winner: it is hung up.
      void dialog.bye().catch(() => undefined);
      return;
    }
    this.#settled = true;
    this.#stopTimers();
    for (const b of this.#branches) if (b !== branch && !b.done) b.invite?.cancel();
    this.emit('answered', { dialog, response, target: branch.target });
  }

  #onFailure(branch: Branch, err: unknown, req: ForkRequest, retried: boolean): void {
    branch.done = true;
    const error =
      err instanceof EndpointError ? err : new EndpointError(EndpointErrorCode.State, String(err));
    branch.error = error;
    if (error.response !== undefined) branch.response = error.response;
    if (error.response?.status === 422 && !retried && !this.#settled && !this.#cancelled) {
      const headers = this.#options.retry422?.(error.response, req.headers);
      if (headers !== undefined) {
        this.#send(branch.target, { ...req, headers }, true);
        return;
      }
    }
    const status = error.response?.status ?? 0;
    if (status >= 600 && !this.#settled) {
      // RFC 3261 §16.7 item 10: a 6xx ends the search; pending branches are cancelled.
      this.#global = true;
      this.#stopTimers();
      for (const b of this.#branches) if (!b.done) b.invite?.cancel();
    }
    this.#advance();
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#stopTimers();
    const responses = this.#branches.flatMap((b) => (b.response === undefined ? [] : [b.response]));
    const best = chooseBestResponse(responses.filter((r) => r.status !== 487));
    const noAnswer = this.#branches.every(
      (b) =>
        b.error?.code === EndpointErrorCode.Cancelled ||
        b.error?.code === EndpointErrorCode.Timeout,
    );
    if (best !== undefined) {
      this.emit('failed', {
        status: best.status,
        reason: best.reason,
        response: best,
        noAnswer: false,
      });
      return;
    }
    if (noAnswer && this.#branches.length > 0) {
      // Nobody answered in time: 480 Temporarily Unavailable (RFC 3261 §21.4.18).
      this.emit('failed', {
        status: 480,
        reason: 'Temporarily Unavailable',
        response: undefined,
        noAnswer: true,
      });
      return;
    }
    // No response at all (transport failure, no route): the callee side is unreachable.
    this.emit('failed', {
      status: 503,
      reason: 'Service Unavailable',
      response: undefined,
      noAnswer: false,
    });
  }
}
