/**
 * The outgoing side of a call: one INVITE per target, in parallel. The first 2xx wins and the
 * other branches are cancelled (a late 2xx is acknowledged and hung up by the endpoint, RFC 3261
 * §13.2.2.4); when every branch failed, the best final response is chosen as a proxy would
 * (RFC 3261 §16.7).
 */
import {
  EndpointError,
  EndpointErrorCode,
  TypedEmitter,
  chooseBestResponse,
} from '@switchboard/sip-stack';
import type {
  DialogSession,
  HeaderValues,
  OutgoingInvite,
  SipEndpoint,
  SipResponse,
} from '@switchboard/sip-stack';
import type { OutboundTarget } from './call-types.js';

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
  done: boolean;
  response?: SipResponse;
  error?: EndpointError;
}

/** RFC 4028 §6: 422 carries the smallest interval the callee takes; we retry once with it. */
export type IntervalRetry = (
  response: SipResponse,
  headers: HeaderValues,
) => HeaderValues | undefined;

export class OutboundFork extends TypedEmitter<OutboundForkEvents> {
  readonly #endpoint: SipEndpoint;
  readonly #branches: Branch[] = [];
  readonly #timeoutMs: number;
  readonly #retry422: IntervalRetry | undefined;
  #settled = false;
  #cancelled = false;

  constructor(endpoint: SipEndpoint, options: { timeoutMs: number; retry422?: IntervalRetry }) {
    super();
    this.#endpoint = endpoint;
    this.#timeoutMs = options.timeoutMs;
    this.#retry422 = options.retry422;
  }

  /** Sends one INVITE per target. */
  start(targets: readonly OutboundTarget[], request: (t: OutboundTarget) => ForkRequest): void {
    for (const target of targets) this.#send(target, request(target), false);
    if (this.#branches.length === 0) this.#settle();
  }

  /** Cancels every branch still pending (CANCEL once it rang; RFC 3261 §9.1). */
  cancel(): void {
    this.#cancelled = true;
    for (const b of this.#branches) if (!b.done) b.invite?.cancel();
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
        timeoutMs: this.#timeoutMs,
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
    const branch: Branch = { target, invite, done: false };
    this.#branches.push(branch);
    invite.on('provisional', (r) => {
      if (!this.#settled && r.status > 100) this.emit('provisional', r, target);
    });
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
      const headers = this.#retry422?.(error.response, req.headers);
      if (headers !== undefined) {
        this.#send(branch.target, { ...req, headers }, true);
        return;
      }
    }
    if (this.#branches.every((b) => b.done)) this.#settle();
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
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
