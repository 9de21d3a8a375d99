/**
 * One branch of a proxy's response context (RFC 3261 §16.6–§16.8): resolves the next hop, sends
 * the copy in a client transaction, runs Timer C and the CANCEL rules of §16.10 / §9.1.
 */
import { createCancel } from '../message/build-request.js';
import { createResponse } from '../message/build-response.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { ClientTransaction } from '../transaction/transaction.js';
import type { ClientTransactionHandler } from '../transaction/transaction-user.js';
import type { Target } from '../transport/transport.js';
import { viaTransportToken } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import { proxyBranch } from './branch-id.js';
import { addContactAlias } from './contact-alias.js';
import { forwardCopy, type ForwardCopy } from './forward-request.js';
import { nextHops, type NextHops } from './next-hop.js';
import type { ProxyEnv } from './proxy-env.js';
import type { ForwardTarget } from './route-decision.js';

/** The response context a branch reports to. */
export interface BranchOwner {
  readonly env: ProxyEnv;
  /** The request as received (responses the proxy makes up are built from it). */
  readonly received: SipRequest;
  /** Loop-detection hash for the branch parameter (RFC 3261 §16.6 item 8). */
  readonly hash: string;
  /** In-dialog requests will pass this proxy: alias NATed Contacts of responses (contact-alias.ts). */
  readonly aliasContacts: boolean;
  /** Adds Record-Route for a copy about to leave towards `target` (RFC 3261 §16.6 item 4). */
  recordRoute(request: SipRequest, target: Target): void;
  onBranchProvisional(branch: ProxyBranch, response: SipResponse): void;
  onBranchFinal(branch: ProxyBranch, response: SipResponse, synthetic: boolean): void;
  /** A 2xx after this branch's first final (retransmission, or another 2xx of a forked UAS). */
  onBranch2xxAgain(branch: ProxyBranch, response: SipResponse): void;
}

/** One armed Timer C in the proxy's shared queue; disarmed by forgetting its branch. */
class TimerCWait {
  branch: ProxyBranch | undefined;

  constructor(branch: ProxyBranch) {
    this.branch = branch;
  }

  expire(): void {
    const branch = this.branch;
    this.branch = undefined;
    branch?.onTimerC(this);
  }
}

const IGNORE: ClientTransactionHandler = {
  onResponse: () => undefined,
  onTimeout: () => undefined,
  onTransportError: () => undefined,
};

export class ProxyBranch {
  readonly target: ForwardTarget;
  readonly group: number;
  readonly index: number;
  readonly #owner: BranchOwner;
  readonly #env: ProxyEnv;
  /** Until the branch is disposed (then only 2xx retransmissions pass: the copy is not needed). */
  #copy: ForwardCopy | undefined;
  /** `#copy.request` was not sent yet: the first attempt takes it as it is, without a copy. */
  #copyFresh = true;
  readonly #invite: boolean;
  #hops: NextHops | undefined;
  #next: Target | undefined;
  #tx: ClientTransaction | undefined;
  #provisional = false;
  #final: SipResponse | undefined;
  #settled = false;
  /** Status to settle with if a CANCEL gets no answer: 487 asked by the caller, 408 by Timer C. */
  #cancelStatus: number | undefined;
  #cancelSent = false;
  #timerC: TimerCWait | undefined;
  #cancelTimer: TimerHandle | undefined;
  /** ForwardTarget.timeoutMs, from the branch's start. */
  #branchTimer: TimerHandle | undefined;
  /** ForwardTarget.responseTimeoutMs, from each send to a next hop until its first response. */
  #responseTimer: TimerHandle | undefined;
  #timedOut = false;
  #synthetic = false;
  #reached = false;

  readonly #handler: ClientTransactionHandler = {
    onResponse: (response, tx) => this.#onResponse(response, tx),
    onTimeout: (tx) => this.#onFailure(tx, 408),
    // RFC 3261 §16.9: a transport error counts as a 503 from that target.
    onTransportError: (_err, tx) => this.#onFailure(tx, 503),
  };

  constructor(
    owner: BranchOwner,
    copy: ForwardCopy,
    target: ForwardTarget,
    group: number,
    index: number,
  ) {
    this.#owner = owner;
    this.#env = owner.env;
    this.#copy = copy;
    this.target = target;
    this.group = group;
    this.index = index;
    this.#invite = copy.request.method === 'INVITE';
  }

  /** A final response is known (received or made up): the branch takes no further part in choosing. */
  get settled(): boolean {
    return this.#settled;
  }

  /** The final response (received or made up), once settled. */
  get response(): SipResponse | undefined {
    return this.#final;
  }

  /** The proxy made the final response up (timeout, transport failure, cancelled unsent). */
  get synthetic(): boolean {
    return this.#synthetic;
  }

  /** The target's `timeoutMs` or `responseTimeoutMs` fired. */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** Some next hop of this branch sent a response (provisional or final). */
  get reached(): boolean {
    return this.#reached;
  }

  /** The copy as last sent (with our Via), once sent. */
  get request(): SipRequest | undefined {
    return this.#tx?.request;
  }

  start(): void {
    const env = this.#env;
    const copy = this.#copy;
    if (copy === undefined) return;
    const explicit = this.target.target ?? copy.aliasTarget;
    this.#hops = nextHops(copy.nextHop, explicit, this.target.flowId, () => env.resolver());
    const ms = this.target.timeoutMs;
    if (ms !== undefined && ms >= 0)
      this.#branchTimer = env.clock.setTimeout(() => this.#onBranchTimeout(), ms);
    void this.#tryNext();
  }

  /** RFC 3261 §16.10 / §9.1: CANCEL now if a provisional arrived, else as soon as one does. */
  cancel(status = 487): void {
    if (this.settled || !this.#invite || this.#cancelStatus !== undefined) return;
    this.#cancelStatus = status;
    // Nothing was sent yet (resolving): nothing to cancel downstream.
    if (this.#tx === undefined) this.#settle(createResponse(this.#owner.received, status), true);
    else if (this.#provisional) this.#sendCancel();
  }

  /**
   * Stops the branch's timers (the context is done; 2xx retransmissions still pass). The copy
   * and the final response are let go: an accepted INVITE's branch lives on for 64*T1 (RFC 6026
   * Timer M) and needs neither.
   */
  dispose(): void {
    this.#stopTimers();
    this.#hops = undefined; // no next hop is tried any more
    this.#copy = undefined;
    this.#final = undefined;
  }

  /** `failed`: how the previous target failed (its status stands when no target is left). */
  async #tryNext(failed?: 408 | 503): Promise<void> {
    const target = await this.#hops?.next();
    if (this.settled) return;
    if (target === undefined) {
      const r = this.#owner.received;
      const response =
        failed === undefined
          ? createResponse(r, 503, 'No Reachable Target')
          : createResponse(r, failed);
      this.#settle(response, true);
      return;
    }
    const request = this.#takeCopy();
    this.#owner.recordRoute(request, target);
    // RFC 3261 §16.6 item 8: our Via on top; the transport fills the sent-by placeholder.
    request.headers.prepend(
      'Via',
      `SIP/2.0/${viaTransportToken(target.protocol)} 0.0.0.0;branch=${proxyBranch(this.#owner.hash)};rport`,
    );
    this.#next = target;
    try {
      this.#tx = this.#env.transactions.sendRequest(request, target, this.#handler);
    } catch (err) {
      this.#env.logger?.warn({ err }, 'proxy: cannot start client transaction');
      this.#settle(createResponse(this.#owner.received, 503), true);
      return;
    }
    // RFC 3261 §16.6 item 11: Timer C for INVITE.
    if (this.#invite) this.#armTimerC();
    const ms = this.target.responseTimeoutMs;
    if (ms !== undefined && ms >= 0) {
      const tx = this.#tx;
      this.#responseTimer = this.#env.clock.setTimeout(() => this.#onResponseTimeout(tx), ms);
    }
  }

  /**
   * The request for the next attempt: the copy made for this branch the first time; a failover
   * (RFC 3263 §4.3) makes the same copy again, as the one sent before carries its hop's Via.
   */
  #takeCopy(): SipRequest {
    if (this.#copyFresh && this.#copy !== undefined) {
      this.#copyFresh = false;
      return this.#copy.request;
    }
    return forwardCopy(this.#owner.received, this.target).request;
  }

  #onResponse(response: SipResponse, tx: ClientTransaction): void {
    if (tx !== this.#tx) return;
    // RFC 3261 §16.7 item 3: remove our Via; nothing left means the response was for us.
    response.headers.shiftValue('Via');
    if (!response.headers.has('Via')) return;
    this.#reached = true;
    this.#stopResponseTimer();
    const status = response.status;
    // Kamailio add_contact_alias on replies: the UA's Contact, if it is not where we reached it.
    if (status > 100 && status < 300 && this.#owner.aliasContacts && this.#next !== undefined)
      addContactAlias(response, this.#next);
    if (status < 200) {
      this.#provisional = true;
      // RFC 3261 §16.7 item 2: 101–199 reset Timer C.
      if (this.#invite && status > 100 && this.#cancelStatus === undefined) this.#armTimerC();
      // RFC 3261 §9.1: a pending CANCEL goes once any provisional has arrived.
      if (this.#cancelStatus !== undefined && !this.#cancelSent) this.#sendCancel();
      // RFC 3261 §16.7 item 5: 100 (Trying) is not forwarded.
      if (status > 100 && !this.settled) this.#owner.onBranchProvisional(this, response);
      return;
    }
    if (!this.#settled) this.#settle(response, false);
    // RFC 3261 §16.7 item 5 / RFC 6026: every 2xx is forwarded.
    else if (status < 300) this.#owner.onBranch2xxAgain(this, response);
  }

  #onFailure(tx: ClientTransaction, status: 408 | 503): void {
    if (tx !== this.#tx || this.settled) return;
    this.#stopTimerC();
    this.#tx = undefined;
    // RFC 3263 §4.3: no response or a transport failure → the next target, in a new transaction.
    if (this.#cancelStatus === undefined) {
      this.#provisional = false;
      void this.#tryNext(status).catch((err: unknown) =>
        this.#env.logger?.warn({ err }, 'proxy: failover'),
      );
      return;
    }
    this.#settle(createResponse(this.#owner.received, status), true);
  }

  /** ForwardTarget.responseTimeoutMs: a silent next hop fails like a transaction timeout. */
  #onResponseTimeout(tx: ClientTransaction): void {
    this.#responseTimer = undefined;
    if (tx !== this.#tx || this.settled || this.#provisional) return;
    this.#timedOut = true;
    // Stop retransmitting to the silent hop; its late responses go the stray-response way.
    tx.dispose();
    this.#onFailure(tx, 408);
  }

  /**
   * ForwardTarget.timeoutMs (like Kamailio's fr_inv_timer): the branch ends now with a made-up
   * 408, so failover or a continuation need not wait for the callee's 487; a branch that rang is
   * cancelled (its 487 is then absorbed), one that did not has its transaction dropped (§9.1).
   */
  #onBranchTimeout(): void {
    this.#branchTimer = undefined;
    if (this.settled) return;
    this.#timedOut = true;
    if (this.#invite && this.#provisional) {
      if (this.#cancelStatus === undefined) this.#cancelStatus = 408;
      this.#sendCancel();
    } else {
      this.#tx?.dispose();
      this.#tx = undefined;
    }
    this.#settle(createResponse(this.#owner.received, 408), true);
  }

  #sendCancel(): void {
    const tx = this.#tx;
    const target = this.#next;
    if (tx === undefined || target === undefined || this.#cancelSent) return;
    this.#cancelSent = true;
    this.#stopTimerC();
    try {
      // RFC 3261 §9.1: same Request-URI, Call-ID, To, From, CSeq number and top Via as the INVITE.
      this.#env.transactions.sendRequest(createCancel(tx.request), target, IGNORE);
    } catch (err) {
      this.#env.logger?.warn({ err }, 'proxy: cannot send CANCEL');
    }
    // RFC 3261 §9.1: no final within 64*T1 of the CANCEL → consider the branch cancelled.
    this.#cancelTimer = this.#env.clock.setTimeout(() => {
      this.#cancelTimer = undefined;
      if (this.settled) return;
      this.#tx?.dispose();
      this.#settle(createResponse(this.#owner.received, this.#cancelStatus ?? 487), true);
    }, this.#env.cancelWait);
  }

  #armTimerC(): void {
    this.#stopTimerC();
    const wait = new TimerCWait(this);
    this.#timerC = wait;
    this.#env.timerCQueue.add(wait);
  }

  /** A queued Timer C wait came due; only the latest one armed counts. */
  onTimerC(wait: TimerCWait): void {
    if (wait !== this.#timerC) return;
    this.#timerC = undefined;
    if (this.settled) return;
    // RFC 3261 §16.8: Timer C after a provisional → CANCEL; before any → as if 408 arrived.
    if (this.#provisional) {
      this.#cancelStatus = 408;
      this.#sendCancel();
      return;
    }
    this.#tx?.dispose();
    this.#settle(createResponse(this.#owner.received, 408), true);
  }

  #settle(response: SipResponse, synthetic: boolean): void {
    this.#final = response;
    this.#settled = true;
    this.#synthetic = synthetic;
    this.#stopTimers();
    this.#owner.onBranchFinal(this, response, synthetic);
  }

  #stopTimerC(): void {
    const wait = this.#timerC;
    if (wait === undefined) return;
    wait.branch = undefined; // the queued wait no longer keeps the branch alive
    this.#timerC = undefined;
  }

  #stopResponseTimer(): void {
    this.#env.clock.clearTimeout(this.#responseTimer);
    this.#responseTimer = undefined;
  }

  #stopTimers(): void {
    this.#stopTimerC();
    this.#stopResponseTimer();
    this.#env.clock.clearTimeout(this.#branchTimer);
    this.#branchTimer = undefined;
    this.#env.clock.clearTimeout(this.#cancelTimer);
    this.#cancelTimer = undefined;
  }
}
