/**
 * The B2BUA inside the edge node (issue "the edge node routes to the B2BUA when the decision says
 * so"): an endpoint attached to the edge's transport and transaction layer runs calls the brain
 * sends `outbound` to trunks. The proxy hands such an INVITE over (`delegate`); admission, the
 * call's tracking and its CDR go through the same `EdgeCalls` as proxied calls. A trunk that
 * fails before the answer passes the call to the next one (`TrunkFailover`).
 */
import { B2bua, type CallEnd, type MediaRelay, type TransferPolicy } from '@switchboard/b2bua';
import {
  attachEndpoint,
  createResponse,
  type IncomingMessage,
  type IncomingRequest,
  type RouteDecision as ProxyDecision,
  type ServerTransaction,
  type SipEndpoint,
  type TransactionLayer,
  type TransactionUser,
  type TransportLayer,
} from '@switchboard/sip-stack';
import type { Brain, RouteRequest } from '../brain/brain.js';
import type { OutboundDirective, RouteDecision } from '../brain/directive.js';
import { dispositionOf, type CallDisposition, type EdgeCalls } from '../edge/edge-calls.js';
import type { EdgeLogger } from '../edge/edge-options.js';
import type { SecretStore } from '../store/secret-store.js';
import { TrunkFailover, type TrunkHealth } from './trunk-failover.js';
import { TrunkPlans, type TrunkAttempt } from './trunk-plans.js';

type Caller = NonNullable<RouteRequest['caller']>;

export interface B2buaGatewayOptions {
  /** The edge's layers: the gateway's endpoint shares them (it opens no socket). */
  transport: TransportLayer;
  transactions: TransactionLayer;
  brain: Brain;
  /** The edge's call tracking (admission release, CDR), shared with proxied calls. */
  calls: EdgeCalls;
  relay: MediaRelay;
  secrets: Pick<SecretStore, 'get'>;
  /** Host in our Contact URIs (the edge's advertised host). */
  contactHost?: string;
  userAgent?: string;
  /**
   * Health of trunk gateways (the edge's TrunkDispatcher): down gateways are skipped, live
   * failures reported. Without it every trunk counts as up.
   */
  trunks?: TrunkHealth;
  /**
   * Honour REFER from the trunk side (default false: 403). A carrier that could send our calls
   * anywhere with a blind REFER is a toll-fraud path; the caller's own transfers are allowed.
   */
  transfersFromTrunks?: boolean;
  /** No answer from a trunk within this many ms ends the attempt (default 120 s). */
  answerTimeoutMs?: number;
  /** Call-IDs of the legs and registrations started here (see EndpointOptions.callId). */
  callId?: () => string;
  logger: EdgeLogger;
}

/** The CDR disposition of a B2BUA call end (an answered call is 'answered' whatever ended it). */
export function dispositionOfEnd(end: CallEnd): CallDisposition {
  switch (end.reason) {
    case 'caller-cancelled':
    case 'no-answer':
      return 'no_answer';
    case 'rejected':
      return end.status === undefined ? 'failed' : dispositionOf(end.status);
    default:
      return 'failed';
  }
}

function hangupCause(end: CallEnd): string {
  return end.status === undefined ? `b2bua ${end.reason}` : `sip ${end.status}`;
}

export class B2buaGateway {
  readonly endpoint: SipEndpoint;
  readonly b2bua: B2bua;
  readonly trunks: TrunkPlans;
  readonly #o: B2buaGatewayOptions;
  /** Side 'a' is our authenticated caller; side 'b' the trunk (RFC 3515 §5: authorize REFER). */
  readonly #transfers: TransferPolicy = ({ side }) =>
    side === 'a' || this.#o.transfersFromTrunks === true
      ? { allow: true }
      : { allow: false, status: 403 };

  constructor(options: B2buaGatewayOptions) {
    this.#o = options;
    const log = options.logger;
    this.endpoint = attachEndpoint({
      transport: options.transport,
      transactions: options.transactions,
      supported: ['100rel', 'timer', 'replaces'],
      userAgent: options.userAgent ?? 'Switchboard',
      ...(options.contactHost === undefined ? {} : { contactHost: options.contactHost }),
      ...(options.callId === undefined ? {} : { callId: options.callId }),
      logger: log,
    });
    this.b2bua = new B2bua({ endpoint: this.endpoint, relay: options.relay, logger: log });
    this.trunks = new TrunkPlans({
      secrets: options.secrets,
      ...(options.answerTimeoutMs === undefined
        ? {}
        : { answerTimeoutMs: options.answerTimeoutMs }),
    });
  }

  /**
   * The proxy decision for a request the brain sent `outbound`: the proxy hands the INVITE to the
   * B2BUA. Other methods are not carried to trunks (RFC 3261 §21.4.6: 405 with Allow).
   */
  delegate(decision: RouteDecision, caller: Caller | undefined): ProxyDecision {
    const d = decision.directive;
    if (d.kind !== 'outbound') return { action: 'reject', status: 500 };
    return {
      action: 'delegate',
      handler: (tx, incoming) => {
        if (tx.request.method !== 'INVITE') {
          tx.respond(createResponse(tx.request, 405, undefined, { headers: { Allow: 'INVITE' } }));
          return;
        }
        this.#take(tx, incoming, decision, d, caller);
      },
    };
  }

  /**
   * The edge's transaction user with the endpoint in front: requests and ACKs of B2BUA dialogs,
   * CANCELs of INVITEs it serves and stray 2xx of its INVITEs go to it; the rest to `fallback`.
   */
  dispatcher(fallback: TransactionUser): TransactionUser {
    const ep = this.endpoint;
    const core = ep.transactionUser;
    return {
      onRequest: (tx, incoming) =>
        ep.ownsRequest(tx.request)
          ? core.onRequest(tx, incoming)
          : fallback.onRequest(tx, incoming),
      onStrayAck: (incoming) => {
        const m = incoming.message;
        if (m.kind === 'request' && ep.ownsRequest(m)) core.onStrayAck(incoming);
        else fallback.onStrayAck(incoming);
      },
      onStrayResponse: (incoming) => {
        const m = incoming.message;
        if (m.kind === 'response' && ep.ownsResponse(m)) core.onStrayResponse(incoming);
        else fallback.onStrayResponse(incoming);
      },
      onServerTransactionError: (err, tx) => {
        core.onServerTransactionError?.(err, tx);
        fallback.onServerTransactionError?.(err, tx);
      },
    };
  }

  /** Hangs up every B2BUA call (BYE / final response) and detaches the endpoint. */
  async close(): Promise<void> {
    for (const call of this.b2bua.calls) call.hangup();
    await this.endpoint.close();
  }

  #take(
    tx: ServerTransaction,
    incoming: IncomingMessage,
    decision: RouteDecision,
    d: OutboundDirective,
    caller: Caller | undefined,
  ): void {
    const request = tx.request;
    const calls = this.#o.calls;
    if (calls.get(request.callId) === undefined)
      calls.begin(request.callId, request.fromTag, decision.accountId);
    const req = this.endpoint.adopt(tx, incoming);
    if (req === undefined) {
      void calls.end(request.callId, 'failed', 'b2bua refused');
      return;
    }
    this.#run(req, decision, d, caller).catch((err: unknown) => {
      this.#o.logger.error({ err, callId: request.callId }, 'b2bua call set-up failed');
      if (!req.responded) req.respond(500);
      void calls.end(request.callId, 'failed', 'b2bua error');
    });
  }

  async #run(
    req: IncomingRequest,
    decision: RouteDecision,
    d: OutboundDirective,
    caller: Caller | undefined,
  ): Promise<void> {
    const callId = req.request.callId;
    const calls = this.#o.calls;
    const health = this.#o.trunks;
    const attempts = await this.trunks.attempts(d, req.request);
    for (const a of attempts) health?.track(a.gateway);
    if (attempts.length === 0) {
      // Every trunk is at max_channels: the caller may retry later (RFC 3261 §21.5.4).
      if (!req.responded)
        req.respond(503, { reason: 'Channel Limit Reached', headers: { 'Retry-After': '10' } });
      await calls.end(callId, 'rejected', 'trunks full');
      return;
    }
    const up = attempts.filter((a) => health?.isUp(a.gateway) ?? true);
    if (up.length === 0) {
      // RFC 3261 §21.5.4: every gateway is down; say when probing may have brought one back.
      const retry = String(Math.max(1, Math.ceil((health?.intervalMs ?? 30_000) / 1000)));
      if (!req.responded) req.respond(503, { headers: { 'Retry-After': retry } });
      await calls.end(callId, 'failed', 'all trunks down');
      return;
    }
    const admitted = await this.#admit(req, decision, d, caller, up);
    if (admitted === undefined) return;
    if (req.responded) {
      // The caller cancelled while we asked for admission (CANCEL → 487 by the endpoint).
      await calls.end(callId, 'no_answer', 'cancelled');
      return;
    }
    new TrunkFailover({
      b2bua: this.b2bua,
      request: req,
      attempts: admitted.map((a) => ({ ...a, plan: { ...a.plan, transfer: this.#transfers } })),
      health,
      logger: this.#o.logger,
      onAnswered: () => calls.answered(callId),
      onEnded: (end) => void calls.end(callId, dispositionOfEnd(end), hangupCause(end)),
    }).start();
  }

  /**
   * Admission, counted once for the call: on the first trunk with room; a trunk at its channel
   * limit in the brain is skipped. Returns the trunks from the admitted one on.
   */
  async #admit(
    req: IncomingRequest,
    decision: RouteDecision,
    d: OutboundDirective,
    caller: Caller | undefined,
    up: readonly TrunkAttempt[],
  ): Promise<readonly TrunkAttempt[] | undefined> {
    const callId = req.request.callId;
    let refusal: { status: number; reason: string; code: string } | undefined;
    for (let i = 0; i < up.length; i++) {
      const admit = await this.#o.brain.admit({
        callId,
        accountId: d.accountId,
        direction: decision.direction ?? 'outbound',
        userIds: caller === undefined ? [] : [caller.userId],
        trunkId: (up[i] as TrunkAttempt).trunkId,
        ...(decision.didId === undefined ? {} : { didId: decision.didId }),
      });
      if (admit.ok) return up.slice(i);
      refusal = admit;
      if (!admit.limit.startsWith('trunk:')) break;
    }
    if (!req.responded && refusal !== undefined)
      req.respond(refusal.status, { reason: refusal.reason });
    await this.#o.calls.end(callId, 'rejected', refusal?.code ?? 'not admitted');
    return undefined;
  }
}
