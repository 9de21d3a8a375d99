/**
 * Trunk failover on the B2BUA (Kamailio dispatcher's `t_check_status("408|5[0-9][0-9]")` then
 * `ds_next_dst()`): a trunk leg that fails before the answer — 408, no response at all, 5xx,
 * 503 — hands the caller's INVITE to the next trunk of the directive instead of failing it. The
 * caller sees one call: its INVITE stays unanswered between attempts, and only the last
 * attempt's failure reaches it. Gateways the dispatcher marks down are skipped; failures and
 * successes of live calls are reported to it.
 */
import type { B2bua, Call, CallEnd } from '@switchboard/b2bua';
import type { IncomingRequest, RespondOptions, SipResponse } from '@switchboard/sip-stack';
import { createResponse } from '@switchboard/sip-stack';
import type { EdgeLogger } from '../edge/edge-options.js';
import type { TrunkGateway } from '../edge/trunk-dispatcher.js';
import type { TrunkAttempt } from './trunk-plans.js';

/** What the gateway needs of the edge's trunk health (TrunkDispatcher fits). */
export interface TrunkHealth {
  /** Probe interval, ms: how long before a down gateway may be back (Retry-After). */
  readonly intervalMs: number;
  track(gateway: TrunkGateway): void;
  isUp(gateway: TrunkGateway): boolean;
  reportFailure(gateway: TrunkGateway, reason: string): void;
  reportSuccess(gateway: TrunkGateway): void;
}

/** RFC 3261 §21.4.9 / §21.5: a timeout or a server failure means "this gateway failed". */
export function isTrunkFailure(status: number): boolean {
  return status === 408 || (status >= 500 && status < 600);
}

/** Why one attempt ended, when it is the gateway's fault (undefined: not a gateway failure). */
export function gatewayFailure(end: CallEnd, rang: boolean): string | undefined {
  if (end.reason === 'rejected' && end.status !== undefined && isTrunkFailure(end.status))
    return `INVITE ${end.status}`;
  // Timer B fired (RFC 3261 §17.1.1.2) with not even a ringing from the trunk.
  if (end.reason === 'no-answer' && !rang) return 'INVITE timeout';
  return undefined;
}

interface Held {
  status: number;
  options: RespondOptions;
}

/**
 * The caller's INVITE as one attempt sees it: final failures are held back (the gateway decides
 * whether they reach the caller); provisional and 2xx responses go through. A JS Proxy, since
 * the endpoint's request keeps its state in private fields: every other member is the real one.
 */
function holdingFailures(req: IncomingRequest, held: (h: Held) => void): IncomingRequest {
  const hold = (status: number, options: RespondOptions = {}): SipResponse => {
    if (status < 300 || req.responded) return req.respond(status, options);
    held({ status, options });
    return createResponse(req.request, status, options.reason);
  };
  // Methods bound to the real request once each, not on every read.
  const bound = new Map<unknown, unknown>();
  return new Proxy(req, {
    get(target, prop) {
      if (prop === 'respond' || prop === 'reply' || prop === 'reject') return hold;
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = bound.get(value);
      if (fn === undefined) bound.set(value, (fn = (value as () => unknown).bind(target)));
      return fn;
    },
  });
}

export interface TrunkFailoverOptions {
  b2bua: B2bua;
  /** The caller's INVITE (adopted by the B2BUA's endpoint). */
  request: IncomingRequest;
  /** Trunks in the directive's order, the first one admitted on. */
  attempts: readonly TrunkAttempt[];
  health?: TrunkHealth | undefined;
  logger: EdgeLogger;
  /** Each attempt's call, as it starts. */
  onCall?: (call: Call, attempt: TrunkAttempt) => void;
  onAnswered: (attempt: TrunkAttempt) => void;
  /** The call is over: answered and hung up, or every attempt failed. */
  onEnded: (end: CallEnd) => void;
}

export class TrunkFailover {
  readonly #o: TrunkFailoverOptions;
  #next = 0;

  constructor(options: TrunkFailoverOptions) {
    this.#o = options;
  }

  /** Runs the first usable trunk; the rest follow as the earlier ones fail. */
  start(): void {
    this.#attempt(undefined);
  }

  #pick(): TrunkAttempt | undefined {
    const { attempts, health } = this.#o;
    while (this.#next < attempts.length) {
      const a = attempts[this.#next++] as TrunkAttempt;
      if (!(health?.isUp(a.gateway) ?? true)) continue;
      // At max_channels now: the next trunk takes the call (checked in the tick the call holds it).
      if (a.limiter !== undefined && a.limiter.inUse >= a.limiter.max) continue;
      return a;
    }
    return undefined;
  }

  #attempt(last: { end: CallEnd; held: Held | undefined } | undefined): void {
    const req = this.#o.request;
    const attempt = req.responded ? undefined : this.#pick();
    if (attempt === undefined) {
      this.#giveUp(last);
      return;
    }
    let held: Held | undefined;
    let rang = false;
    let answered = false;
    const caller = holdingFailures(req, (h) => (held ??= h));
    const call = this.#o.b2bua.handleInvite(caller, attempt.plan);
    this.#o.onCall?.(call, attempt);
    call.on('progress', () => (rang = true));
    call.once('answered', () => {
      answered = true;
      this.#o.health?.reportSuccess(attempt.gateway);
      this.#o.onAnswered(attempt);
    });
    let done = false;
    const ended = (end: CallEnd): void => {
      if (done) return;
      done = true;
      if (answered) return this.#o.onEnded(end);
      const failure = gatewayFailure(end, rang);
      if (failure === undefined) return this.#giveUp({ end, held });
      this.#o.health?.reportFailure(attempt.gateway, failure);
      this.#o.logger.info(
        { callId: req.request.callId, trunkId: attempt.trunkId, failure },
        'b2bua: trunk failed, trying the next one',
      );
      this.#attempt({ end, held });
    };
    call.once('ended', ended);
    // A call refused before its first await (bad INVITE, channel limit) ended inside handleInvite.
    if (call.end !== undefined) ended(call.end);
  }

  /** No trunk left: the caller hears the last failure (or 503 when no trunk could be tried). */
  #giveUp(last: { end: CallEnd; held: Held | undefined } | undefined): void {
    const req = this.#o.request;
    if (!req.responded) {
      try {
        if (last?.held !== undefined) req.respond(last.held.status, last.held.options);
        // RFC 3261 §21.5.4: no trunk to try (all down or full); the caller may retry later.
        else req.respond(503, { headers: { 'Retry-After': '10' } });
      } catch {
        // Cancelled meanwhile: the endpoint answered 487.
      }
    }
    this.#o.onEnded(last?.end ?? { reason: 'rejected', status: 503 });
  }
}
