/** What an incoming INVITE must be before the B2BUA takes it on (loops, body, offer). */
import type { HeaderValues, SipRequest } from '@switchboard/sip-stack';

export type InviteCheck =
  /** `offer` undefined: RFC 3264 §5 delayed offer (we offer in the 2xx, the answer comes in the ACK). */
  | { ok: true; offer: string | undefined; maxForwards: number }
  | { ok: false; status: number; reason: string; headers?: HeaderValues };

const SDP = 'application/sdp';

export function checkInvite(request: SipRequest): InviteCheck {
  const maxForwards = request.maxForwards ?? 70;
  // RFC 3261 §16.3 item 3 (and RFC 7332 for B2BUAs): stop loops through chained B2BUAs.
  if (maxForwards <= 0) return { ok: false, status: 483, reason: 'Too Many Hops' };
  // RFC 3261 §13.2.1: an INVITE without a body leaves the offer to us (delayed offer).
  if (request.body.length === 0)
    return { ok: true, offer: undefined, maxForwards: maxForwards - 1 };
  const type = request.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== SDP) {
    // RFC 3261 §21.4.13: 415 with the types we take.
    return { ok: false, status: 415, reason: 'Unsupported Media Type', headers: { Accept: SDP } };
  }
  return { ok: true, offer: request.body.toString('utf8'), maxForwards: maxForwards - 1 };
}

/**
 * RFC 3261 §20.43: the Warning for a refused description: 304 (media type not available), 305
 * (incompatible media format) or 399 (anything else).
 */
export function mediaWarning(status: number, text: string, warning?: 304 | 305): HeaderValues {
  const code = warning ?? (status === 488 ? 305 : 399);
  return { Warning: `${code} switchboard "${text.replace(/["\\]/g, '')}"` };
}
