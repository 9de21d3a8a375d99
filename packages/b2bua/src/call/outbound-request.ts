/** The INVITE a call sends to one target: identity and headers per policy, timers, our offer. */
import type { IncomingRequest } from '@switchboard/sip-stack';
import { outboundIdentity } from '../policy/caller-id.js';
import { outboundHeaders } from '../policy/header-policy.js';
import { uacOfferHeaders } from '../signalling/session-timer.js';
import { supports100rel } from './call-helpers.js';
import type { CallPlan, OutboundTarget } from './call-types.js';
import type { ForkRequest } from './outbound-fork.js';

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
