/**
 * The response context of one proxied request (RFC 3261 §16.5–§16.7, §16.10): the branches in
 * their groups, the responses they brought, the choice of the best one, and CANCEL.
 */
import { createResponse } from '../message/build-response.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { ServerTransaction } from '../transaction/transaction.js';
import { sameAddress } from '../transport/ip-address.js';
import { sendReported } from '../transport/transport.js';
import type { Flow, ListeningPoint, Target } from '../transport/transport.js';
import { chooseBestResponse, shapeFinalResponse } from './best-response.js';
import { addContactAlias } from './contact-alias.js';
import { addRecordRoute, forwardCopy } from './forward-request.js';
import { DOUBLE_RR_PARAM } from './preprocess-route.js';
import { ProxyBranch, type BranchOwner } from './proxy-branch.js';
import { callHook, type ProxyEnv } from './proxy-env.js';
import type {
  AfterGroupFunction,
  ForwardGroups,
  GroupOutcome,
  GroupVerdict,
} from './route-decision.js';

function samePoint(a: ListeningPoint, b: ListeningPoint): boolean {
  return (
    a.protocol === b.protocol &&
    a.local.port === b.local.port &&
    sameAddress(a.local.address, b.local.address)
  );
}

export class ResponseContext implements BranchOwner {
  readonly env: ProxyEnv;
  /** The request as received, until the context is done (see `received`). */
  #received: SipRequest | undefined;
  readonly hash: string;
  readonly transaction: ServerTransaction;
  readonly #flow: Flow;
  readonly #onDone: (ctx: ResponseContext) => void;
  #groups: ForwardGroups = [];
  #group = -1;
  #afterGroup: AfterGroupFunction | undefined;
  /** `afterGroup` is running: the context waits for its verdict. */
  #deciding = false;
  readonly #branches: ProxyBranch[] = [];
  readonly #finals: SipResponse[] = [];
  #recordRoute = false;
  #aliasContacts = false;
  #finalSent = false;
  #cancelled = false;
  #sixxx = false;
  #done = false;

  constructor(
    env: ProxyEnv,
    transaction: ServerTransaction,
    received: SipRequest,
    flow: Flow,
    hash: string,
    onDone: (ctx: ResponseContext) => void,
  ) {
    this.env = env;
    this.transaction = transaction;
    this.#received = received;
    this.#flow = flow;
    this.hash = hash;
    this.#onDone = onDone;
  }

  /**
   * The request as received. Once the context is done (a 2xx keeps it reachable for 64*T1
   * through its branch) it is let go: this is then the server transaction's request (which, over
   * UDP, is rebuilt from its request line and response bytes).
   */
  get received(): SipRequest {
    return this.#received ?? this.transaction.request;
  }

  get finalSent(): boolean {
    return this.#finalSent;
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  get aliasContacts(): boolean {
    return this.#aliasContacts;
  }

  /**
   * Starts forking (RFC 3261 §16.5): group by group, the targets of a group in parallel.
   * `onRouteSet`: the request followed a route set with us on it (in-dialog requests pass here).
   */
  forward(
    groups: ForwardGroups,
    recordRoute: boolean,
    afterGroup?: AfterGroupFunction,
    onRouteSet = false,
  ): void {
    if (this.#finalSent || this.#cancelled) return this.#maybeDone();
    this.#groups = groups;
    this.#recordRoute = recordRoute;
    this.#afterGroup = afterGroup;
    // Contact aliasing only helps when the dialog's requests come through us (Record-Route).
    this.#aliasContacts =
      (recordRoute || onRouteSet) && this.received.method !== 'REGISTER' && this.env.contactAlias;
    if (this.#aliasContacts) {
      const f = this.#flow;
      addContactAlias(this.received, { protocol: f.protocol, ...f.remote });
    }
    this.#nextGroup();
  }

  /** Sends a final response the proxy made (rejection, validation, routing answer). */
  respond(response: SipResponse): void {
    if (!this.#finalSent) this.#sendFinal(response);
    this.#maybeDone();
  }

  /** RFC 3261 §16.10: CANCEL every pending branch; the INVITE gets 487 from us at once. */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    if (!this.#finalSent) this.#sendFinal(createResponse(this.received, 487));
    this.#cancelPending();
    this.#maybeDone();
  }

  /** The server transaction failed (Timer H, transport): nothing more can go upstream. */
  abort(): void {
    this.#cancelled = true;
    this.#finalSent = true;
    this.#cancelPending();
    this.#maybeDone();
  }

  recordRoute(request: SipRequest, target: Target): void {
    if (!this.#recordRoute) return;
    const id = this.env.identity;
    const inbound = id.inboundPoint(this.#flow.protocol, this.#flow.local);
    const outbound = id.pointFor(target.protocol, target.address) ?? inbound;
    if (inbound === undefined || outbound === undefined) return;
    const seen = this.#flow.local;
    if (samePoint(inbound, outbound)) {
      addRecordRoute(request, [id.recordRouteUri(inbound, seen)]);
      return;
    }
    // RFC 5658 §4: transports or interfaces differ → two entries, the outbound-facing one on top.
    const r2 = `;${DOUBLE_RR_PARAM}=on`;
    addRecordRoute(request, [
      id.recordRouteUri(outbound, seen) + r2,
      id.recordRouteUri(inbound, seen) + r2,
    ]);
  }

  onBranchProvisional(branch: ProxyBranch, response: SipResponse): void {
    this.#branchHook(branch, response, false);
    // RFC 3261 §16.7 item 5: provisionals other than 100 are forwarded at once.
    if (!this.#finalSent) this.transaction.respond(response);
  }

  onBranchFinal(branch: ProxyBranch, response: SipResponse, synthetic: boolean): void {
    this.#branchHook(branch, response, synthetic);
    if (response.status < 300) {
      // RFC 3261 §16.7 item 5: every 2xx is forwarded immediately; then pending branches are cancelled.
      this.#sendFinal(response);
      this.#maybeDone();
      return;
    }
    this.#finals.push(response);
    if (response.status >= 600 && !this.#sixxx) {
      // RFC 3261 §16.7 item 5: a 6xx cancels every pending branch and stops new ones.
      this.#sixxx = true;
      this.#cancelPending();
    }
    this.#onGroupProgress();
  }

  onBranch2xxAgain(_branch: ProxyBranch, response: SipResponse): void {
    this.#sendUpstream(response);
  }

  #branchHook(branch: ProxyBranch, response: SipResponse, synthetic: boolean): void {
    const hooks = this.env.hooks;
    if (hooks?.onBranchResponse === undefined) return;
    const event = {
      request: this.received,
      response,
      target: branch.target,
      group: branch.group,
      branch: branch.index,
      synthetic,
    };
    callHook(this.env, 'onBranchResponse', () => hooks.onBranchResponse?.(event));
  }

  #nextGroup(): void {
    for (;;) {
      this.#group++;
      const group = this.#groups[this.#group];
      if (group === undefined) return this.#sendBest();
      if (group.length === 0) continue;
      const started: ProxyBranch[] = [];
      for (const target of group) {
        const branch = new ProxyBranch(
          this,
          forwardCopy(this.received, target),
          target,
          this.#group,
          this.#branches.length,
        );
        this.#branches.push(branch);
        started.push(branch);
      }
      for (const b of started) b.start();
      return;
    }
  }

  /** RFC 3261 §16.7 item 6: when the current group is complete, fork the next or choose. */
  #onGroupProgress(): void {
    if (this.#finalSent) return this.#maybeDone();
    if (this.#deciding || this.#branches.some((b) => !b.settled)) return;
    const after = this.#afterGroup;
    if (after === undefined || this.#cancelled) return this.#continue();
    this.#deciding = true;
    let verdict: GroupVerdict | Promise<GroupVerdict>;
    try {
      verdict = after(this.#outcome());
    } catch (err) {
      verdict = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (!(verdict instanceof Promise)) return this.#applyVerdict(verdict);
    verdict.then(
      (v) => this.#applyVerdict(v),
      (err: unknown) => {
        this.env.logger?.warn({ err }, 'proxy: afterGroup failed');
        this.#applyVerdict({ action: 'stop' });
      },
    );
  }

  /** The default rules: next group unless a 6xx arrived or the caller cancelled. */
  #continue(): void {
    if (!this.#sixxx && !this.#cancelled && this.#group + 1 < this.#groups.length) {
      this.#nextGroup();
      return;
    }
    this.#sendBest();
  }

  #outcome(): GroupOutcome {
    const branches = [];
    for (const b of this.#branches) {
      const response = b.response;
      if (b.group !== this.#group || response === undefined) continue;
      branches.push({
        target: b.target,
        response,
        synthetic: b.synthetic,
        timedOut: b.timedOut,
        reached: b.reached,
      });
    }
    return {
      request: this.received,
      group: this.#group,
      branches,
      best: chooseBestResponse(this.#finals) ?? createResponse(this.received, 408),
      remaining: Math.max(0, this.#groups.length - this.#group - 1),
    };
  }

  #applyVerdict(verdict: GroupVerdict): void {
    this.#deciding = false;
    // The caller cancelled (or the server transaction failed) while the verdict was pending.
    if (this.#finalSent || this.#cancelled || this.#done) return this.#maybeDone();
    switch (verdict.action) {
      case 'continue':
        return this.#continue();
      case 'stop':
        return this.#sendBest();
      case 'reject': {
        const opts =
          verdict.headers === undefined ? undefined : { headers: { ...verdict.headers } };
        this.#sendFinal(createResponse(this.received, verdict.status, verdict.reason, opts));
        return this.#maybeDone();
      }
      case 'forward':
        // The routing logic asked for more branches; after a 6xx this deviates from RFC 3261
        // §16.7 item 5 on purpose (forward-on-busy after 603 Decline, as a failure_route would).
        this.#groups = [...this.#groups.slice(0, this.#group + 1), ...verdict.targets];
        this.#sixxx = false;
        return this.#nextGroup();
    }
  }

  #sendBest(): void {
    if (this.#finalSent) return this.#maybeDone();
    // RFC 3261 §16.7 item 6: no final response at all → 408.
    const best = chooseBestResponse(this.#finals) ?? createResponse(this.received, 408);
    this.#sendFinal(shapeFinalResponse(best, this.#finals));
    this.#maybeDone();
  }

  #sendFinal(response: SipResponse): void {
    this.#finalSent = true;
    this.#sendUpstream(response);
    const hooks = this.env.hooks;
    if (hooks?.onFinalResponse !== undefined) {
      const event = { request: this.received, response };
      callHook(this.env, 'onFinalResponse', () => hooks.onFinalResponse?.(event));
    }
    // RFC 3261 §16.7 item 10: once a final is sent, every pending branch is cancelled.
    this.#cancelPending();
  }

  /** Through the server transaction; a 2xx it no longer takes goes out statelessly (§16.7 item 5). */
  #sendUpstream(response: SipResponse): void {
    if (this.transaction.respond(response)) return;
    if (response.status < 200 || response.status >= 300) return;
    sendReported(this.env.transport, response, this.transaction.target, this.env.statelessReport);
  }

  #cancelPending(): void {
    for (const b of this.#branches) if (!b.settled) b.cancel();
  }

  #maybeDone(): void {
    if (this.#done || !this.#finalSent || this.#branches.some((b) => !b.settled)) return;
    this.#done = true;
    for (const b of this.#branches) b.dispose();
    // A 2xx client transaction keeps its branch (and so this context) for 64*T1 (RFC 6026 §7.2)
    // to pass 2xx retransmissions upstream: that needs the server transaction, not the routing.
    this.#groups = [];
    this.#afterGroup = undefined;
    this.#finals.length = 0;
    this.#branches.length = 0;
    this.#received = undefined;
    this.#onDone(this);
  }
}
