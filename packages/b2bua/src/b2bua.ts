/**
 * The B2BUA on a SIP endpoint: takes INVITEs the application routes to it, runs each as a `Call`
 * with its media anchored on the relay, and keeps count of what is open.
 */
import { randomUUID } from 'node:crypto';
import { TypedEmitter, systemClock } from '@switchboard/sip-stack';
import type { Clock, EndpointLogger, IncomingRequest, SipEndpoint } from '@switchboard/sip-stack';
import { Call } from './call/call.js';
import { findLegIn, type CallRegistry } from './call/call-registry.js';
import type { CallEnd, CallPlan } from './call/call-types.js';
import type { MediaRelay } from './media/media-relay.js';

export interface B2buaOptions {
  endpoint: SipEndpoint;
  relay: MediaRelay;
  /** The endpoint's clock (session timers, glare retries). */
  clock?: Clock;
  logger?: EndpointLogger;
}

/** What to do with an incoming INVITE: run a call with this plan, or refuse it. */
export type InviteDecision = CallPlan | { reject: number; reason?: string };

export type InviteRouter = (request: IncomingRequest) => InviteDecision | Promise<InviteDecision>;

export type B2buaEvents = {
  call: [call: Call];
  ended: [call: Call, end: CallEnd];
};

export interface B2buaStats {
  /** Calls not ended yet. */
  active: number;
  started: number;
  ended: number;
  /** Relay sessions held by active calls. */
  relaySessions: number;
}

const NOOP = (): void => undefined;
const SILENT: EndpointLogger = { debug: NOOP, info: NOOP, warn: NOOP, error: NOOP };

export class B2bua extends TypedEmitter<B2buaEvents> {
  readonly endpoint: SipEndpoint;
  readonly #relay: MediaRelay;
  readonly #clock: Clock;
  readonly #logger: EndpointLogger;
  readonly #calls = new Set<Call>();
  /** Attended transfers between two of our calls (RFC 3891 Replaces naming one of our legs). */
  readonly #registry: CallRegistry = { findLeg: (replaces) => findLegIn(this.#calls, replaces) };
  #started = 0;
  #ended = 0;

  constructor(options: B2buaOptions) {
    super();
    this.endpoint = options.endpoint;
    this.#relay = options.relay;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? SILENT;
    this.setListenerErrorHandler((err, event) =>
      this.#logger.error({ err, event }, 'b2bua listener threw'),
    );
  }

  /** Calls not ended yet. */
  get calls(): readonly Call[] {
    return [...this.#calls];
  }

  stats(): B2buaStats {
    let relaySessions = 0;
    for (const call of this.#calls) relaySessions += call.media.sessionCount;
    return { active: this.#calls.size, started: this.#started, ended: this.#ended, relaySessions };
  }

  /** Answers every new INVITE of the endpoint through `router`. */
  route(router: InviteRouter): this {
    this.endpoint.onRequest('INVITE', async (request) => {
      let decision: InviteDecision;
      try {
        decision = await router(request);
      } catch (err) {
        this.#logger.error({ err, callId: request.request.callId }, 'INVITE router failed');
        if (!request.responded) request.respond(500);
        return;
      }
      if (request.responded) return; // cancelled while routing
      if ('reject' in decision) {
        request.respond(
          decision.reject,
          decision.reason === undefined ? {} : { reason: decision.reason },
        );
        return;
      }
      this.handleInvite(request, decision);
    });
    return this;
  }

  /** Runs `request` as a call with `plan`; the returned call is already started. */
  handleInvite(request: IncomingRequest, plan: CallPlan): Call {
    const call = new Call({
      id: randomUUID(),
      endpoint: this.endpoint,
      incoming: request,
      plan,
      relay: this.#relay,
      clock: this.#clock,
      logger: this.#logger,
      registry: this.#registry,
    });
    this.#calls.add(call);
    this.#started++;
    call.once('ended', (end) => {
      this.#calls.delete(call);
      this.#ended++;
      this.emit('ended', call, end);
    });
    this.emit('call', call);
    call.start().catch((err: unknown) => {
      this.#logger.error({ err, callId: request.request.callId }, 'call failed');
      call.hangup();
    });
    return call;
  }
}
