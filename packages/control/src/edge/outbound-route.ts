/**
 * Outbound calls on the proxy path (issue 5, dispatcher-style): an `outbound` directive's trunks
 * become one forward group each, in the directive's order, skipping gateways that are down; a
 * trunk that times out or answers 5xx is marked down and the call moves to the next one.
 */
import { isIP } from 'node:net';
import type { ForwardTarget, RouteContext, SipRequest } from '@switchboard/sip-stack';
import type { OutboundDirective, TrunkHop } from '../brain/directive.js';
import type {
  BranchOutcome,
  GroupOutcome,
  GroupStep,
  GroupVerdict,
  RouteTools,
  StepStart,
} from './group-run.js';
import { gatewayPort, uriHost, type TrunkGateway } from './trunk-dispatcher.js';

/** Admission of the call on a trunk (top-level outbound calls; continuations are admitted already). */
export interface OutboundAdmission {
  accountId: string;
  userIds: string[];
  didId?: string;
}

interface Hop {
  hop: TrunkHop;
  gateway: TrunkGateway;
}

const TOKEN = /^[A-Za-z0-9!%'*+\-.^_`|~]+$/;
/** Headers a trunk's custom headers may not replace: the proxy and the dialog own them. */
const RESERVED = new Set(
  [
    'via',
    'from',
    'to',
    'call-id',
    'cseq',
    'contact',
    'route',
    'record-route',
    'max-forwards',
    'content-length',
    'content-type',
    'proxy-authorization',
    'p-asserted-identity',
  ].map((h) => h.toLowerCase()),
);

/** RFC 3261 §25.1: characters a user part keeps as they are; the rest is %-escaped. */
export function escapeUser(user: string): string {
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) =>
    [...Buffer.from(c, 'utf8')]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}

/** `sip:<number>@<host>:<port>;transport=<t>` for a trunk hop. */
export function trunkUri(hop: TrunkHop): string {
  const port = gatewayPort(hop.port, hop.transport);
  return `sip:${escapeUser(hop.number)}@${uriHost(hop.host)}:${port};transport=${hop.transport}`;
}

/** RFC 3261 §21.5.4 / §21.5.1: the statuses that mean "this gateway failed, try the next". */
export function isGatewayFailure(b: BranchOutcome): boolean {
  const s = b.response.status;
  return s === 408 || (s >= 500 && s < 600) || (b.synthetic && s === 503);
}

export class OutboundStep implements GroupStep {
  readonly #t: RouteTools;
  readonly #request: SipRequest;
  readonly #ctx: RouteContext;
  readonly #d: OutboundDirective;
  readonly #admission: OutboundAdmission | undefined;
  readonly #byTarget = new Map<ForwardTarget, Hop>();
  #left: Hop[] = [];

  constructor(
    tools: RouteTools,
    request: SipRequest,
    ctx: RouteContext,
    directive: OutboundDirective,
    admission?: OutboundAdmission,
  ) {
    this.#t = tools;
    this.#request = request;
    this.#ctx = ctx;
    this.#d = directive;
    this.#admission = admission;
  }

  async begin(): Promise<StepStart> {
    const trunks = this.#t.trunks;
    const hops = this.#d.trunks.map((hop) => ({
      hop,
      gateway: {
        host: hop.host,
        port: gatewayPort(hop.port, hop.transport),
        transport: hop.transport,
      },
    }));
    for (const h of hops) trunks?.track(h.gateway);
    let up = hops.filter((h) => trunks?.isUp(h.gateway) ?? true);
    if (up.length === 0) {
      // RFC 3261 §21.5.4: every gateway is down; say when probing may have brought one back.
      const retry = String(Math.max(1, Math.ceil((trunks?.intervalMs ?? 30_000) / 1000)));
      this.#t.logger.warn({ callId: this.#request.callId }, 'outbound: every trunk is down');
      await this.#end('failed', 'all trunks down');
      return {
        kind: 'reject',
        status: 503,
        reason: 'Service Unavailable',
        headers: { 'Retry-After': retry },
      };
    }
    if (this.#admission !== undefined && this.#request.method === 'INVITE') {
      const admitted = await this.#admit(up);
      if (admitted.kind === 'reject') return admitted;
      up = admitted.hops;
    }
    this.#left = up;
    if (this.#request.method === 'INVITE') this.#t.anchor(this.#request, this.#ctx, false);
    return { kind: 'forward', targets: this.#nextGroup() };
  }

  after(outcome: GroupOutcome): GroupVerdict {
    let failed = false;
    for (const b of outcome.branches) {
      const h = this.#byTarget.get(b.target);
      if (h === undefined) continue;
      if (isGatewayFailure(b)) {
        failed = true;
        this.#t.trunks?.reportFailure(h.gateway, `INVITE ${b.response.status}`);
      } else this.#t.trunks?.reportSuccess(h.gateway);
    }
    // Not a gateway failure (404, 486, a 401/407 challenge, 6xx): the carrier's answer goes
    // back to the caller. Answering a trunk's digest challenge with the trunk's credentials
    // needs a B2BUA (a proxy cannot add credentials for a user it is not); that is a later issue.
    if (!failed) return { action: 'stop' };
    const next = this.#nextGroup();
    if (next.length === 0) return { action: 'stop' };
    this.#t.logger.info(
      { callId: this.#request.callId, status: outcome.best.status },
      'outbound: failing over to the next trunk',
    );
    return { action: 'forward', targets: next };
  }

  /** Admission on the first trunk with room; a trunk at its channel limit is skipped. */
  async #admit(
    up: Hop[],
  ): Promise<{ kind: 'ok'; hops: Hop[] } | { kind: 'reject'; status: number; reason: string }> {
    const a = this.#admission;
    if (a === undefined) return { kind: 'ok', hops: up };
    const callId = this.#request.callId;
    let status = 503;
    let reason = 'Service Unavailable';
    for (let i = 0; i < up.length; i++) {
      const trunkId = up[i]?.hop.trunkId;
      const r = await this.#t.brain.admit({
        callId,
        accountId: a.accountId,
        direction: 'outbound',
        userIds: a.userIds,
        ...(trunkId === undefined ? {} : { trunkId }),
        ...(a.didId === undefined ? {} : { didId: a.didId }),
      });
      if (r.ok) return { kind: 'ok', hops: up.slice(i) };
      status = r.status;
      reason = r.reason;
      if (!r.limit.startsWith('trunk:')) {
        await this.#end('rejected', r.code);
        return { kind: 'reject', status, reason };
      }
    }
    await this.#end('rejected', 'trunks at their channel limit');
    return { kind: 'reject', status, reason };
  }

  /** The next trunk that is still up, as a one-target group (empty when none is left). */
  #nextGroup(): ForwardTarget[][] {
    while (this.#left.length > 0) {
      const h = this.#left.shift() as Hop;
      if (!(this.#t.trunks?.isUp(h.gateway) ?? true)) continue;
      const target = this.#target(h);
      this.#byTarget.set(target, h);
      return [[target]];
    }
    return [];
  }

  #target(h: Hop): ForwardTarget {
    const { hop, gateway } = h;
    const headers: Record<string, string | readonly string[]> = {
      // RFC 3261 §22.3: our realm's credentials stay here; others pass on.
      'Proxy-Authorization': this.#t.digest.otherCredentials(this.#request),
      // RFC 3325 §9.1: the identity we assert replaces what the caller preferred.
      'P-Preferred-Identity': [],
      // RFC 3261 §8.1.1.3: a proxy does not rewrite From; the caller ID goes in P-Asserted-Identity.
      'P-Asserted-Identity':
        hop.callerId === null ? [] : `<sip:${escapeUser(hop.callerId)}@${uriHost(hop.host)}>`,
    };
    for (const [name, value] of Object.entries(hop.customHeaders ?? {})) {
      if (!TOKEN.test(name) || RESERVED.has(name.toLowerCase()) || /[\r\n\0]/.test(value)) {
        this.#t.logger.debug({ trunkId: hop.trunkId, header: name }, 'trunk header skipped');
        continue;
      }
      headers[name] = value;
    }
    const target: ForwardTarget = {
      uri: trunkUri(hop),
      headers,
      responseTimeoutMs: this.#t.trunks?.failoverTimeoutMs ?? 5_000,
    };
    if (isIP(gateway.host) !== 0)
      target.target = { protocol: gateway.transport, address: gateway.host, port: gateway.port };
    return target;
  }

  async #end(disposition: 'failed' | 'rejected', cause: string): Promise<void> {
    if (this.#request.method === 'INVITE' && this.#admission !== undefined)
      await this.#t.calls.end(this.#request.callId, disposition, cause);
  }
}
