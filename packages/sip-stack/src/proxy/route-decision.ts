/**
 * What the embedder's routing callback sees and returns: the boundary between the proxy core
 * (RFC 3261 §16) and whatever decides where a request goes (location service, the brain).
 */
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { ServerTransaction } from '../transaction/transaction.js';
import type { Flow, IncomingMessage, Target } from '../transport/transport.js';

/** Header lines to set on a forwarded copy: each name replaces every line of that name. */
export type ForwardHeaders = Readonly<Record<string, string | readonly string[]>>;

/** One branch of a fork (RFC 3261 §16.5: one target). */
export interface ForwardTarget {
  /** Request-URI of the forwarded copy (RFC 3261 §16.6 item 2). */
  uri: string;
  /** Explicit next hop; otherwise the top Route, else `uri`, resolved per RFC 3263. */
  target?: Target;
  /** Header lines set on this branch's copy (RFC 3261 §16.6 item 5 allows adding headers). */
  headers?: ForwardHeaders;
  /** Send over this flow only (RFC 5626); a closed flow fails the branch like a transport error. */
  flowId?: string;
  /**
   * Give up on this branch this long after it starts (a ring timeout, Kamailio's fr_inv_timer):
   * the branch ends at once with a made-up 408, and is cancelled when a provisional arrived
   * (else its transaction is dropped: no CANCEL before a provisional). Default: Timer C only.
   */
  timeoutMs?: number;
  /**
   * A next hop that sends no response at all (not even 100) within this time fails like a
   * transaction timeout: the next address of the target (RFC 3263 §4.3), else 408. Meant for
   * gateways that go silent (Kamailio's fr_timer); default: Timer B/F of the transaction.
   */
  responseTimeoutMs?: number;
}

/** Targets in q-value order: the targets of one group fork in parallel, groups run in sequence. */
export type ForwardGroups = readonly (readonly ForwardTarget[])[];

/** How one branch of a finished group ended. */
export interface BranchOutcome {
  target: ForwardTarget;
  /** The branch's final response (received, or made up by the proxy when `synthetic`). */
  response: SipResponse;
  /** The proxy made the response up: 408 for a timeout, 503 for a transport failure. */
  synthetic: boolean;
  /** The branch's `timeoutMs` or `responseTimeoutMs` fired. */
  timedOut: boolean;
  /**
   * A next hop answered at all (a provisional, even 100, or the final): false for a target that
   * was never reached (a stale registration, a dead flow), whatever made the branch end.
   */
  reached: boolean;
}

/** A group whose branches all ended without a 2xx (what `afterGroup` sees). */
export interface GroupOutcome {
  /** The request as received (after Route pre-processing); read only. */
  request: SipRequest;
  /** Index of the group, counting every group run so far in this context. */
  group: number;
  branches: readonly BranchOutcome[];
  /** The response the proxy would send now if nothing more is tried (RFC 3261 §16.7 item 6). */
  best: SipResponse;
  /** Groups of the decision not run yet. */
  remaining: number;
}

/**
 * What to do after a group without a 2xx: `continue` = the default rules (next group unless a
 * 6xx arrived, else the best response); `stop` = send the best response now; `forward` = run
 * these groups instead of the remaining ones; `reject` = answer with this status.
 */
export type GroupVerdict =
  | { action: 'continue' }
  | { action: 'stop' }
  | { action: 'forward'; targets: ForwardGroups }
  | { action: 'reject'; status: number; reason?: string; headers?: ForwardHeaders };

/** Called when a group ends without a 2xx (never after the caller cancelled). */
export type AfterGroupFunction = (outcome: GroupOutcome) => GroupVerdict | Promise<GroupVerdict>;

export type RouteDecision =
  | {
      action: 'forward';
      /** Groups in q-value order: the targets of one group fork in parallel, groups run in sequence. */
      targets: readonly (readonly ForwardTarget[])[];
      /** Add Record-Route (default: the proxy's `recordRoute` option, off for in-dialog requests). */
      recordRoute?: boolean;
      /**
       * Failover and continuations (serial forking decided as responses come in, like a
       * Kamailio failure_route): asked after every group that ended without a 2xx.
       */
      afterGroup?: AfterGroupFunction;
    }
  | { action: 'reject'; status: number; reason?: string; headers?: ForwardHeaders }
  | { action: 'respond'; response: SipResponse }
  | {
      /**
       * Hand the request to another transaction user (e.g. a B2BUA on the same transaction layer):
       * the proxy forgets the transaction and calls `handler`, which must answer it. Not called
       * when the request was answered meanwhile (a CANCEL while routing).
       */
      action: 'delegate';
      handler: DelegateHandler;
    };

/** Takes over a request the proxy validated (and answered 100 Trying, for an INVITE). */
export type DelegateHandler = (tx: ServerTransaction, incoming: IncomingMessage) => void;

export interface RouteContext {
  /** The flow the request arrived on. */
  flow: Flow;
  /** The server transaction the request created (read its state; do not respond on it). */
  transaction: ServerTransaction;
  /** The request carries a To tag (RFC 3261 §12.2: a request inside a dialog). */
  inDialog: boolean;
  /** Clock time the transport delivered the request. */
  receivedAt: number;
  /**
   * Whether a host names this proxy, whatever the port: a listening address, an advertised
   * host, the Record-Route host or an alias (RFC 3261 §16.4). Set by `SipProxy`.
   */
  isLocalHost?: (host: string) => boolean;
}

/**
 * Decides where a request goes. It receives the request after Route pre-processing (RFC 3261
 * §16.4); it must not modify it. A rejection of the promise is answered with 500.
 */
export type RouteFunction = (request: SipRequest, context: RouteContext) => Promise<RouteDecision>;
