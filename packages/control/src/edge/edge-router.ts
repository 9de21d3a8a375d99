/**
 * The proxy's routing callback: authenticate local callers (407), ask the brain where the call
 * goes, admit it, and turn a `proxy` directive's fork plan into branches to registered contacts.
 */
import {
  isSipUri,
  type ForwardTarget,
  type RouteContext,
  type RouteDecision as ProxyDecision,
  type SipRequest,
  type SipUri,
} from '@switchboard/sip-stack';
import type { Binding, Registrar } from '@switchboard/registrar';
import type { Brain, RouteRequest } from '../brain/brain.js';
import type { ForkPlan, ProxyDirective, RouteDecision } from '../brain/directive.js';
import type { BrainDigest } from './brain-digest.js';
import type { EdgeCalls } from './edge-calls.js';
import type { EdgeLogger } from './edge-options.js';
import type { MediaAnchor } from './media-anchor.js';

export interface EdgeRouterOptions {
  brain: Brain;
  registrar: Registrar;
  digest: BrainDigest;
  calls: EdgeCalls;
  media: MediaAnchor;
  isLocalDomain: (host: string, request: SipRequest) => boolean;
  logger: EdgeLogger;
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

/** A branch to a binding: its Contact as Request-URI, its NAT/flow target, its Path as Route. */
export function bindingTarget(
  b: Binding,
  headers: Record<string, readonly string[]>,
): ForwardTarget {
  const h: Record<string, readonly string[]> = { ...headers };
  // RFC 3327 §5.3: requests to a binding registered through proxies carry its Path as Route.
  if (b.path !== undefined && b.path.length > 0) h['Route'] = b.path;
  return { uri: b.uri, ...(b.target === undefined ? {} : { target: b.target }), headers: h };
}

export class EdgeRouter {
  readonly #o: EdgeRouterOptions;

  constructor(options: EdgeRouterOptions) {
    this.#o = options;
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
      case 'flow':
      case 'outbound': {
        log.warn(
          { callId: request.callId, directive: d.kind },
          'not yet implemented: B2BUA (flow and outbound directives)',
        );
        if (tracked) await this.#o.calls.end(request.callId, 'failed', `unsupported ${d.kind}`);
        return d.kind === 'flow'
          ? { action: 'reject', status: 501, reason: 'Not Implemented' }
          : { action: 'reject', status: 503, reason: 'Service Unavailable' };
      }
      case 'proxy':
        return this.#proxy(request, ctx, decision, d, caller);
    }
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
    const contacts = new Map<string, readonly Binding[]>();
    for (const leg of d.fork.legs) contacts.set(leg.aor, await this.#o.registrar.lookup(leg.aor));
    const groups = forkGroups(d.fork, contacts).filter((g) => g.length > 0);
    if (groups.length === 0) {
      // Nobody registered: RFC 3261 §21.4.18 480 (onNoAnswer continuations need the B2BUA).
      if (request.method === 'INVITE')
        await this.#o.calls.end(callId, 'no_answer', 'not registered');
      return { action: 'reject', status: 480 };
    }
    const others = this.#o.digest.otherCredentials(request);
    const headers = { 'Proxy-Authorization': others };
    if (request.method === 'INVITE') this.#anchor(request, ctx, groups);
    return {
      action: 'forward',
      targets: groups.map((g) => g.map((b) => bindingTarget(b, headers))),
    };
  }

  #anchor(request: SipRequest, ctx: RouteContext, groups: Binding[][]): void {
    const call = this.#o.calls.get(request.callId);
    if (call === undefined) return;
    const calleeNated = groups.some((g) => g.some((b) => b.received !== undefined));
    if (!this.#o.media.wanted(request.body, ctx.flow, calleeNated)) return;
    const media = this.#o.media.open(request.callId);
    if (media !== undefined) call.media = media;
  }

  /** RFC 3261 §16.12: in-dialog requests follow their Route set; a BYE ends the tracked call. */
  #inDialog(request: SipRequest): ProxyDecision {
    if (request.method === 'BYE') void this.#o.calls.end(request.callId, 'answered', 'bye');
    return { action: 'forward', targets: [[{ uri: request.uri }]], recordRoute: false };
  }
}
