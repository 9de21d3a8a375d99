/**
 * The stateful proxy core (RFC 3261 §16) as a transaction user: validation, Route pre-processing,
 * the routing callback, forking through response contexts, CANCEL, and stateless forwarding of
 * the ACK for 2xx and of stray responses. Wire it as TransportLayer → TransactionLayer → Proxy.
 */
import { createResponse } from '../message/build-response.js';
import type { SipRequest } from '../message/sip-message.js';
import { SipResolver } from '../dns/sip-resolver.js';
import type { ServerTransaction } from '../transaction/transaction.js';
import type { TransactionError } from '../transaction/transaction-error.js';
import type { TransactionUser } from '../transaction/transaction-user.js';
import type { IncomingMessage } from '../transport/transport.js';
import { DeadlineQueue } from '../transaction/deadline-queue.js';
import { systemClock } from '../util/clock.js';
import { loopHash } from './branch-id.js';
import { LocalIdentity } from './local-identity.js';
import { preprocessRoute } from './preprocess-route.js';
import { statelessReport, type ProxyEnv } from './proxy-env.js';
import type { ProxyOptions } from './proxy-options.js';
import { ResponseContext } from './response-context.js';
import type { DelegateHandler, RouteDecision } from './route-decision.js';
import { StatelessForwarder } from './stateless-forwarder.js';
import { validateRequest, type ValidationRules } from './validate-request.js';

export interface ProxyStats {
  /** Response contexts alive (requests being proxied). */
  contexts: number;
  /** Requests that went to the routing callback. */
  routed: number;
  /** Requests answered by validation (§16.3). */
  rejected: number;
  acksForwarded: number;
  strayResponsesForwarded: number;
  statelessDropped: number;
}

/** Methods that are not Record-Routed by default: they never create a dialog. */
const NO_RECORD_ROUTE = new Set(['REGISTER', 'CANCEL', 'ACK', 'OPTIONS', 'MESSAGE']);

export class SipProxy implements TransactionUser {
  readonly #options: ProxyOptions;
  readonly #env: ProxyEnv;
  readonly #rules: ValidationRules;
  readonly #stateless: StatelessForwarder;
  readonly #contexts = new Map<ServerTransaction, ResponseContext>();
  readonly #dropContext = (ctx: ResponseContext): void => {
    if (this.#contexts.get(ctx.transaction) === ctx) this.#contexts.delete(ctx.transaction);
  };
  readonly #isLocalHost: (host: string) => boolean;
  #resolver: SipResolver | undefined;
  #routed = 0;
  #rejected = 0;

  constructor(options: ProxyOptions) {
    this.#options = options;
    const clock = options.clock ?? systemClock;
    const identity = new LocalIdentity(
      options.transport,
      options.aliases ?? [],
      options.recordRouteHost,
    );
    const timers = options.transactions.timers;
    const timerC = options.timerC ?? timers.timerC;
    this.#env = {
      transactions: options.transactions,
      transport: options.transport,
      clock,
      timerC,
      timerCQueue: new DeadlineQueue(clock, timerC),
      cancelWait: 64 * timers.T1,
      identity,
      contactAlias: options.contactAlias !== false,
      resolver: () => (this.#resolver ??= options.resolver ?? new SipResolver({ clock })),
      hooks: options.hooks,
      logger: options.logger,
      statelessReport: statelessReport(options.logger),
    };
    this.#isLocalHost = (host) => identity.isLocalHost(host);
    this.#rules = {
      identity,
      schemes: new Set((options.schemes ?? ['sip', 'sips', 'tel']).map((s) => s.toLowerCase())),
      supported: new Set((options.supported ?? []).map((s) => s.toLowerCase())),
    };
    this.#stateless = new StatelessForwarder(this.#env);
    options.transactions.setUser(this);
  }

  stats(): ProxyStats {
    const s = this.#stateless.stats;
    return {
      contexts: this.#contexts.size,
      routed: this.#routed,
      rejected: this.#rejected,
      acksForwarded: s.acksForwarded,
      strayResponsesForwarded: s.responsesForwarded,
      statelessDropped: s.dropped,
    };
  }

  onRequest(tx: ServerTransaction, incoming: IncomingMessage): void {
    const request = incoming.message;
    if (request.kind !== 'request') return;
    if (request.method === 'CANCEL') return this.#cancel(tx, request);
    this.#process(tx, request, incoming).catch((err: unknown) => {
      this.#env.logger?.warn({ err, method: request.method }, 'proxy: request processing failed');
    });
  }

  onStrayAck(incoming: IncomingMessage): void {
    const ack = incoming.message;
    if (ack.kind !== 'request') return;
    void this.#stateless.forwardAck(ack);
  }

  onStrayResponse(incoming: IncomingMessage): void {
    const response = incoming.message;
    if (response.kind !== 'response') return;
    this.#stateless.forwardResponse(response);
  }

  onServerTransactionError(error: TransactionError, tx: ServerTransaction): void {
    this.#env.logger?.debug(
      { code: error.code, method: tx.request.method },
      'proxy: server transaction failed',
    );
    this.#contexts.get(tx)?.abort();
  }

  async #process(
    tx: ServerTransaction,
    request: SipRequest,
    incoming: IncomingMessage,
  ): Promise<void> {
    const verdict = validateRequest(request, this.#rules);
    if (!verdict.ok) {
      this.#rejected++;
      const opts = verdict.headers === undefined ? undefined : { headers: { ...verdict.headers } };
      tx.respond(createResponse(request, verdict.status, verdict.reason, opts));
      return;
    }
    // RFC 3261 §16.6 item 8: the loop hash covers the request as received, before §16.4.
    const hash = loopHash(request);
    const { poppedRoute } = preprocessRoute(request, this.#env.identity);
    const ctx = new ResponseContext(this.#env, tx, request, incoming.flow, hash, this.#dropContext);
    this.#contexts.set(tx, ctx);
    const inDialog = request.toTag !== undefined;
    const decision = await this.#decide(tx, request, incoming, inDialog);
    // RFC 3261 §16.2 / §17.2.1: an INVITE the proxy forwards gets 100 (Trying) now (the server
    // transaction sends one itself if routing takes 200 ms); one answered here needs none, and
    // one delegated is the new transaction user's to answer: its server transaction still sends
    // the 100 if that user has not answered within 200 ms (a B2BUA's 180 usually comes first).
    if (request.method === 'INVITE' && decision.action === 'forward') this.#trying(ctx);
    if (decision.action === 'delegate') return this.#delegate(ctx, decision.handler, incoming);
    this.#apply(ctx, request, decision, inDialog, poppedRoute);
  }

  async #decide(
    tx: ServerTransaction,
    request: SipRequest,
    incoming: IncomingMessage,
    inDialog: boolean,
  ): Promise<RouteDecision> {
    // RFC 3261 §16.12 / §12.2: in-dialog requests follow their Route set, else the Request-URI.
    if (inDialog && this.#options.routeInDialog !== true)
      return { action: 'forward', targets: [[{ uri: request.uri }]], recordRoute: false };
    this.#routed++;
    try {
      return await this.#options.route(request, {
        flow: incoming.flow,
        transaction: tx,
        inDialog,
        receivedAt: incoming.receivedAt,
        isLocalHost: this.#isLocalHost,
      });
    } catch (err) {
      this.#env.logger?.warn({ err }, 'proxy: route callback failed');
      return { action: 'reject', status: 500 };
    }
  }

  #apply(
    ctx: ResponseContext,
    request: SipRequest,
    decision: RouteDecision,
    inDialog: boolean,
    poppedRoute: boolean,
  ): void {
    switch (decision.action) {
      case 'respond':
        return ctx.respond(decision.response);
      case 'reject': {
        const opts =
          decision.headers === undefined ? undefined : { headers: { ...decision.headers } };
        return ctx.respond(createResponse(request, decision.status, decision.reason, opts));
      }
      case 'forward': {
        const groups = decision.targets.filter((g) => g.length > 0);
        // No target to try: temporarily unavailable (RFC 3261 §21.4.18).
        if (groups.length === 0) return ctx.respond(createResponse(request, 480));
        const rr =
          decision.recordRoute ??
          (!inDialog &&
            this.#options.recordRoute !== false &&
            !NO_RECORD_ROUTE.has(request.method));
        return ctx.forward(groups, rr, decision.afterGroup, poppedRoute);
      }
    }
  }

  #trying(ctx: ResponseContext): void {
    if (ctx.finalSent || ctx.cancelled) return;
    ctx.transaction.respond(createResponse(ctx.received, 100));
  }

  /** The request leaves the proxy core: another transaction user answers it from now on. */
  #delegate(ctx: ResponseContext, handler: DelegateHandler, incoming: IncomingMessage): void {
    this.#dropContext(ctx);
    // A CANCEL while routing already got the INVITE its 487 (RFC 3261 §16.10).
    if (ctx.finalSent || ctx.cancelled) return;
    try {
      handler(ctx.transaction, incoming);
    } catch (err) {
      this.#env.logger?.warn({ err }, 'proxy: delegate handler failed');
      // The handler may have answered before it threw; a second final is refused by the machine.
      try {
        ctx.transaction.respond(createResponse(ctx.received, 500));
      } catch {
        // already answered
      }
    }
  }

  /** RFC 3261 §16.10: CANCEL. */
  #cancel(tx: ServerTransaction, cancel: SipRequest): void {
    const invite = this.#env.transactions.findInviteServerTransaction(cancel);
    if (invite === undefined) {
      // No response context: we deviate from §16.10's stateless forwarding and answer 481 (§9.2).
      tx.respond(createResponse(cancel, 481));
      return;
    }
    // RFC 3261 §16.10: 200 to the CANCEL, then CANCEL the pending branches.
    tx.respond(createResponse(cancel, 200));
    this.#contexts.get(invite)?.cancel();
  }
}
