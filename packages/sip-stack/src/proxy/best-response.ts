/** RFC 3261 §16.7 items 6–7: choosing the response to send upstream, and shaping it. */
import type { SipResponse } from '../message/sip-message.js';

/** RFC 3261 §16.7 item 6: responses that tell the caller how to retry are preferred in 4xx. */
const PREFERRED = new Set([401, 407, 415, 420, 484]);

function rank(r: SipResponse): number {
  const cls = Math.floor(r.status / 100);
  // 6xx first (§16.7 item 6); then the lowest class.
  const classRank = cls === 6 ? 0 : cls;
  let inClass = 1;
  if (PREFERRED.has(r.status)) inClass = 0;
  // Timeouts and our own 503s carry the least information in their class.
  else if (r.status === 408 || r.status === 503) inClass = 2;
  return classRank * 10 + inClass;
}

/** The best of the final (≥ 300) responses, earliest first among equals; undefined when none. */
export function chooseBestResponse(responses: readonly SipResponse[]): SipResponse | undefined {
  let best: SipResponse | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const r of responses) {
    if (r.status < 300) continue;
    const k = rank(r);
    if (k < bestRank) {
      best = r;
      bestRank = k;
    }
  }
  return best;
}

const CHALLENGES = ['WWW-Authenticate', 'Proxy-Authenticate'] as const;

/**
 * The response to forward: 503 becomes 500 (RFC 3261 §16.7 item 6), and a 401/407 carries every
 * challenge of every 401/407 in the context (§16.7 item 7).
 */
export function shapeFinalResponse(best: SipResponse, all: readonly SipResponse[]): SipResponse {
  if (best.status === 503) {
    // RFC 3261 §16.7 item 6: a 503 is not forwarded; the proxy SHOULD send 500 instead.
    const out = best.clone();
    out.status = 500;
    out.reason = 'Server Internal Error';
    out.headers.delete('Retry-After');
    return out;
  }
  if (best.status !== 401 && best.status !== 407) return best;
  const out = best.clone();
  for (const name of CHALLENGES) {
    const values = new Set(out.headers.getAll(name));
    for (const r of all) {
      if (r === best || (r.status !== 401 && r.status !== 407)) continue;
      for (const v of r.headers.getAll(name)) {
        if (values.has(v)) continue;
        values.add(v);
        out.headers.append(name, v);
      }
    }
  }
  return out;
}
