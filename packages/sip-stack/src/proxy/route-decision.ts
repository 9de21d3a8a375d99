/**
 * What the embedder's routing callback sees and returns: the boundary between the proxy core
 * (RFC 3261 §16) and whatever decides where a request goes (location service, the brain).
 */
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { ServerTransaction } from '../transaction/transaction.js';
import type { Flow, Target } from '../transport/transport.js';

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
}

export type RouteDecision =
  | {
      action: 'forward';
      /** Groups in q-value order: the targets of one group fork in parallel, groups run in sequence. */
      targets: readonly (readonly ForwardTarget[])[];
      /** Add Record-Route (default: the proxy's `recordRoute` option, off for in-dialog requests). */
      recordRoute?: boolean;
    }
  | { action: 'reject'; status: number; reason?: string; headers?: ForwardHeaders }
  | { action: 'respond'; response: SipResponse };

export interface RouteContext {
  /** The flow the request arrived on. */
  flow: Flow;
  /** The server transaction the request created (read its state; do not respond on it). */
  transaction: ServerTransaction;
  /** The request carries a To tag (RFC 3261 §12.2: a request inside a dialog). */
  inDialog: boolean;
  /** Clock time the transport delivered the request. */
  receivedAt: number;
}

/**
 * Decides where a request goes. It receives the request after Route pre-processing (RFC 3261
 * §16.4); it must not modify it. A rejection of the promise is answered with 500.
 */
export type RouteFunction = (request: SipRequest, context: RouteContext) => Promise<RouteDecision>;
