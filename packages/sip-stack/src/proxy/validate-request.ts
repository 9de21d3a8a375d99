/** RFC 3261 §16.3 request validation, items 2–5 (item 1, syntax, is the parser's). */
import type { SipRequest } from '../message/sip-message.js';
import { PROXY_BRANCH_PREFIX, branchLoopHash, loopHash } from './branch-id.js';
import type { ForwardHeaders } from './route-decision.js';
import type { LocalIdentity } from './local-identity.js';

export interface ValidationRules {
  schemes: ReadonlySet<string>;
  supported: ReadonlySet<string>;
  identity: LocalIdentity;
}

export type ValidationResult =
  { ok: true } | { ok: false; status: number; reason?: string; headers?: ForwardHeaders };

/** Methods a proxy answering OPTIONS itself lists (RFC 3261 §11.2). */
const ALLOW =
  'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, UPDATE, INFO, MESSAGE, SUBSCRIBE, NOTIFY, REFER';

/** Validates a request the proxy is about to forward. Never throws. */
export function validateRequest(request: SipRequest, rules: ValidationRules): ValidationResult {
  // RFC 3261 §16.3 item 2: a Request-URI scheme the proxy does not understand → 416.
  if (!rules.schemes.has(request.requestUri.scheme.toLowerCase()))
    return { ok: false, status: 416 };
  // RFC 3261 §16.3 item 3: Max-Forwards of zero → 483; OPTIONS may be answered by the proxy itself.
  if (request.headers.has('Max-Forwards')) {
    const mf = request.maxForwards;
    if (mf === undefined) return { ok: false, status: 400, reason: 'Bad Max-Forwards' };
    if (mf === 0) {
      return request.method === 'OPTIONS'
        ? { ok: false, status: 200, headers: { Allow: ALLOW } }
        : { ok: false, status: 483 };
    }
  }
  // RFC 3261 §16.3 item 4: our sent-by in a Via with the same routing hash → a loop, not a spiral.
  if (isLoop(request, rules.identity)) return { ok: false, status: 482 };
  // RFC 3261 §16.3 item 5: Proxy-Require options we do not support → 420 listing them in Unsupported.
  if (!request.headers.has('Proxy-Require')) return { ok: true };
  const unsupported = request.headers
    .values('Proxy-Require')
    .map((v) => v.trim())
    .filter((v) => v.length > 0 && !rules.supported.has(v.toLowerCase()));
  if (unsupported.length > 0)
    return { ok: false, status: 420, headers: { Unsupported: unsupported.join(', ') } };
  return { ok: true };
}

/** RFC 3261 §16.3 item 4 with the §16.6 item 8 branch computation. */
export function isLoop(request: SipRequest, identity: LocalIdentity): boolean {
  // Only a Via with one of our branches can mean a loop: most requests carry none, and their Vias
  // need not be parsed.
  if (!request.headers.getAll('Via').some((line) => line.includes(PROXY_BRANCH_PREFIX)))
    return false;
  let hash: string | undefined;
  for (const via of request.via) {
    const ours = branchLoopHash(via.branch);
    if (ours === undefined || !identity.isLocalVia(via)) continue;
    hash ??= loopHash(request);
    if (ours === hash) return true;
  }
  return false;
}
