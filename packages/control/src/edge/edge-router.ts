/**
 * The proxy's routing callback: authenticate local callers (407), refuse relaying for strangers,
 * ask the brain where the call goes, admit it, and run the directive as forward groups: a fork
 * plan with its continuations (continuations.ts) or a trunk list with failover (outbound-route.ts).
 */
import {
  isSipUri,
  type RouteContext,
  type RouteDecision as ProxyDecision,
  type SipRequest,
  type SipUri,
} from '@switchboard/sip-stack';
import type { Binding, Registrar } from '@switchboard/registrar';
import type { Brain, RouteRequest } from '../brain/brain.js';
import type {
  ForkPlan,
  OutboundDirective,
  ProxyDirective,
  RouteDecision,
} from '../brain/directive.js';
import type { BrainDigest } from './brain-digest.js';
import { ForkStep } from './continuations.js';
import type { EdgeCalls } from './edge-calls.js';
import type { EdgeLogger } from './edge-options.js';
import { startDecision, type GroupStep, type RouteTools } from './group-run.js';
import type { MediaAnchor } from './media-anchor.js';
import { OutboundStep } from './outbound-route.js';
import type { TrunkDispatcher } from './trunk-dispatcher.js';

export { bindingTarget } from './continuations.js';

export interface EdgeRouterOptions {
  brain: Brain;
  registrar: Registrar;
  digest: BrainDigest;
  calls: EdgeCalls;
  media: MediaAnchor;
  isLocalDomain: (host: string, request: SipRequest) => boolean;
  logger: EdgeLogger;
  /**
   * Forward requests for foreign domains from callers that are neither authenticated nor local
   * (default false: 403 Relaying Denied).
   */
  relayForeignDomains?: boolean;
  /**
   * Whether a Request-URI domain is ours besides the proxy's own addresses (the domains devices
   * register under, configured local domains). Default: only the proxy's own hosts.
   */
  isOurDomain?: (host: string) => boolean;
  /** Trunk gateway health for outbound directives; without it every trunk counts as up. */
  trunks?: TrunkDispatcher;
  /** Runs outbound calls as a party (B2BUA); without it outbound INVITEs are proxied to trunks. */
  b2bua?: { delegate(decision: RouteDecision, caller: Caller | undefined): ProxyDecision };
  /** Clock for ring timeouts (the proxy's clock); default Date.now. */
  now?: () => number;
}

type Caller = NonNullable<RouteRequest['caller']>;

function requestTarget(request: SipRequest): SipUri | undefined {
  const uri = request.requestUri;
  return isSipUri(uri) ? uri : undefined;
}

function fromParty(request: SipRequest): RouteRequest['from'] {
  const m = /^sips?:(?:([^@;>]*)@)?([^;:>?]+)/i.exec(request.from.uri);
  const party: RouteRequest['from'] = { user: m?.[1] ?? '', host: (m?.[2] ?? '').toLowerCase() };
  if (request.from.displayName !== undefined) party.displayName = request.from.displayName;
  return party;
}

/** Branch groups of a fork plan: one group per step (sequential), contacts of a step in parallel. */
export function forkGroups(
  plan: ForkPlan,
  contacts: ReadonlyMap<string, readonly Binding[]>,
): Binding[][] {
  const steps = [...new Set(plan.legs.map((l) => l.step))].sort((x, y) => x - y);
  return steps.map((step) =>
    plan.legs.filter((l) => l.step === step).flatMap((l) => [...(contacts.get(l.aor) ?? [])]),
  );
}

export class EdgeRouter {
  readonly #o: EdgeRouterOptions;
  readonly #tools: RouteTools;

  constructor(options: EdgeRouterOptions) {
    this.#o = options;
    this.#tools = {
      brain: options.brain,
      registrar: options.registrar,
      digest: options.digest,
      calls: options.calls,
      trunks: options.trunks,
      logger: options.logger,
      now: options.now ?? Date.now,
      anchor: (request, ctx, nated) => this.#anchor(request, ctx, nated),
    };
  }

  readonly route = async (request: SipRequest, ctx: RouteContext): Promise<ProxyDecision> => {
    if (ctx.inDialog) return this.#inDialog(request);
    const target = requestTarget(request);
    if (target === undefined) return { action: 'reject', status: 416 };
    // A request for the node itself (no user part): keep-alive OPTIONS are answered here.
    if (target.user === undefined || target.user === '')
      return request.method === 'OPTIONS'
        ? { action: 'reject', status: 200 }
        : { action: 'reject', status: 404 };
    let caller: Caller | undefined;
    const from = fromParty(request);
    const mustAuth =
      this.#o.isLocalDomain(from.host, request) || this.#o.digest.hasCredentials(request);
    if (mustAuth) {
      // RFC 3261 §22.3: a proxy challenges with 407 and Proxy-Authenticate.
      const auth = await this.#o.digest.verify(request);
      if (!auth.ok) return { action: 'respond', response: auth.response };
      caller = { accountId: auth.accountId, userId: auth.userId, deviceId: auth.deviceId };
    } else if (!this.#ours(target.host, ctx)) {
      // Neither an authenticated or local caller nor one of our domains: an open relay unless allowed.
      if (this.#o.relayForeignDomains !== true)
        return { action: 'reject', status: 403, reason: 'Relaying Denied' };
      // RFC 3261 §16.5: the Request-URI is the target, resolved per RFC 3263.
      return { action: 'forward', targets: [[{ uri: request.uri }]] };
    }
    const routeReq: RouteRequest = {
      callId: request.callId,
      to: { user: target.user, host: target.host },
      from,
      privacy: /(^|[\s,;])id([\s,;]|$)/i.test(request.headers.get('Privacy') ?? ''),
    };
    if (caller !== undefined) routeReq.caller = caller;
    const decision = await this.#o.brain.route(routeReq);
    return this.#apply(request, ctx, decision, caller);
  };

  async #apply(
    request: SipRequest,
    ctx: RouteContext,
    decision: RouteDecision,
    caller: Caller | undefined,
  ): Promise<ProxyDecision> {
    const d = decision.directive;
    const log = this.#o.logger;
    const tracked = request.method === 'INVITE';
    if (tracked) this.#o.calls.begin(request.callId, request.fromTag, decision.accountId);
    switch (d.kind) {
      case 'reject':
        if (tracked) await this.#o.calls.end(request.callId, 'rejected', d.code);
        // RFC 3261 §22.3: the brain wants an authenticated caller.
        if (d.status === 407)
          return { action: 'respond', response: this.#o.digest.challenge(request) };
        return { action: 'reject', status: d.status, reason: d.reason };
      case 'flow': {
        log.warn(
          { callId: request.callId, directive: d.kind },
          'not yet implemented: B2BUA (flow directives)',
        );
        if (tracked) await this.#o.calls.end(request.callId, 'failed', `unsupported ${d.kind}`);
        return { action: 'reject', status: 501, reason: 'Not Implemented' };
      }
      case 'outbound':
        // Outbound INVITEs run on the B2BUA when there is one (topology hiding, trunk digest).
        if (this.#o.b2bua !== undefined && tracked) return this.#o.b2bua.delegate(decision, caller);
        return this.#outbound(request, ctx, decision, d, caller);
      case 'proxy':
        return this.#proxy(request, ctx, decision, d, caller);
    }
  }

  #ours(host: string, ctx: RouteContext): boolean {
    return (ctx.isLocalHost?.(host) ?? false) || (this.#o.isOurDomain?.(host) ?? false);
  }

  async #run(step: GroupStep): Promise<ProxyDecision> {
    return startDecision(await step.begin(), (o) => step.after(o));
  }

  /** Out to trunks, admitted as an outbound call of the caller (or of the DID it came in on). */
  async #outbound(
    request: SipRequest,
    ctx: RouteContext,
    decision: RouteDecision,
    d: OutboundDirective,
    caller: Caller | undefined,
  ): Promise<ProxyDecision> {
    const admission = {
      accountId: d.accountId,
      userIds: caller === undefined ? [] : [caller.userId],
      ...(decision.didId === undefined ? {} : { didId: decision.didId }),
    };
    return this.#run(new OutboundStep(this.#tools, request, ctx, d, admission));
  }

  async #proxy(
    request: SipRequest,
    ctx: RouteContext,
    decision: RouteDecision,
    d: ProxyDirective,
    caller: Caller | undefined,
  ): Promise<ProxyDecision> {
    const callId = request.callId;
    if (request.method === 'INVITE') {
      const users = [
        ...new Set([...(caller ? [caller.userId] : []), ...d.fork.legs.map((l) => l.userId)]),
      ];
      const admit = await this.#o.brain.admit({
        callId,
        accountId: d.accountId,
        direction: decision.direction ?? 'internal',
        userIds: users,
        ...(decision.didId === undefined ? {} : { didId: decision.didId }),
      });
      if (!admit.ok) {
        await this.#o.calls.end(callId, 'rejected', admit.code);
        return { action: 'reject', status: admit.status, reason: admit.reason };
      }
    }
    return this.#run(new ForkStep(this.#tools, request, ctx, d));
  }

  /** Anchors a call's media once (a continuation may reach a NATed callee later). */
  #anchor(request: SipRequest, ctx: RouteContext, calleeNated: boolean): void {
    const call = this.#o.calls.get(request.callId);
    if (call === undefined || call.media !== undefined) return;
    if (!this.#o.media.wanted(request.body, ctx.flow, calleeNated)) return;
    const media = this.#o.media.open(request.callId);
    if (media !== undefined) call.media = media;
  }

  /** RFC 3261 §16.12: in-dialog requests follow their Route set; a BYE ends the tracked call. */
  #inDialog(request: SipRequest): ProxyDecision {
    if (request.method === 'BYE') this.#o.calls.byeForwarded(request.callId);
    return { action: 'forward', targets: [[{ uri: request.uri }]], recordRoute: false };
  }
}
