/**
 * The INVITEs a call sends: the fork its plan asks for, and the request to each target (identity
 * and headers per policy, timers, our offer).
 */
import type { Clock, IncomingRequest, SipEndpoint } from '@switchboard/sip-stack';
import { outboundIdentity } from '../policy/caller-id.js';
import { outboundHeaders } from '../policy/header-policy.js';
import { retryAfter422, uacOfferHeaders } from '../signalling/session-timer.js';
import { supports100rel } from './call-helpers.js';
import type { CallPlan, OutboundTarget } from './call-types.js';
import { OutboundFork, type ForkRequest } from './outbound-fork.js';

/** Methods our legs take: peers learn that we accept UPDATE (RFC 3311) and REFER. */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, MESSAGE, REFER, NOTIFY';

export interface OutboundRequestInput {
  incoming: IncomingRequest;
  plan: CallPlan;
  /** Our host, for a From built from a caller without one. */
  host: string;
  target: OutboundTarget;
  sdp: string;
  maxForwards: number;
}

export function outboundRequest(input: OutboundRequestInput): ForkRequest {
  const { incoming, plan, target } = input;
  const identity = outboundIdentity(
    incoming.request,
    target.uri,
    plan.policy?.callerId,
    input.host,
  );
  const timer = plan.sessionTimer === undefined ? {} : uacOfferHeaders(plan.sessionTimer);
  // RFC 3262 hop by hop: the callee may send reliable provisionals when the caller takes them.
  const supported = [
    ...(plan.sessionTimer === undefined ? [] : ['timer']),
    ...(supports100rel(incoming) ? ['100rel'] : []),
  ];
  return {
    uri: identity.uri,
    from: identity.from,
    to: identity.to,
    headers: {
      ...outboundHeaders(incoming.request, plan.policy?.headers),
      ...identity.headers,
      ...timer,
      ...(supported.length === 0 ? {} : { Supported: supported.join(', ') }),
      Allow: ALLOW,
    },
    body: input.sdp,
    maxForwards: input.maxForwards,
  };
}

/** The fork of a call's plan: ring strategy, answer timeout, one retry after 422 (RFC 4028 §6). */
export function planFork(endpoint: SipEndpoint, clock: Clock, plan: CallPlan): OutboundFork {
  return new OutboundFork(endpoint, {
    clock,
    timeoutMs: plan.answerTimeoutMs ?? 60_000,
    ...(plan.ring === undefined ? {} : { ring: plan.ring }),
    ...(plan.sessionTimer === undefined ? {} : { retry422: retryAfter422 }),
  });
}
