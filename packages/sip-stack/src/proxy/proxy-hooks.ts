import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { ForwardTarget } from './route-decision.js';

/** A response one branch received, after the proxy removed its own Via (RFC 3261 §16.7 item 3). */
export interface BranchResponseEvent {
  /** The request as received (after Route pre-processing). */
  request: SipRequest;
  response: SipResponse;
  target: ForwardTarget;
  /** Index of the branch's group (sequential forking), and of the branch inside the proxy context. */
  group: number;
  branch: number;
  /** The proxy made this response up: 408 for Timer B/F/C, 503 for a transport failure. */
  synthetic: boolean;
}

/** The final response the proxy sent upstream for a request (forwarded or generated). */
export interface FinalResponseEvent {
  request: SipRequest;
  response: SipResponse;
}

/**
 * Observation points for an edge node (CDRs, media anchoring, metrics). Hooks run synchronously;
 * a hook that throws is logged and ignored. The messages are live: read, do not keep or modify.
 */
export interface ProxyHooks {
  onBranchResponse?(event: BranchResponseEvent): void;
  onFinalResponse?(event: FinalResponseEvent): void;
}
