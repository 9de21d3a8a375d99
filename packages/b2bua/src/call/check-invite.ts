/**
 * What an incoming INVITE must be before the B2BUA takes it on (loops, body, offer), and taking
 * it on: channels held, session timer agreed.
 */
import type { HeaderValues, SipRequest } from '@switchboard/sip-stack';
import { uasNegotiate, type TimerSettings } from '../signalling/session-timer.js';
import { holdChannels } from '../trunk/channel-limiter.js';
import type { CallEndReason, CallPlan } from './call-types.js';

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

/** The caller's INVITE taken on: its offer, channels held, the session timer agreed. */
export type InviteAdmission =
  | {
      ok: true;
      offer: string | undefined;
      maxForwards: number;
      releaseChannels: () => void;
      callerTimer: { settings: TimerSettings | undefined; headers: HeaderValues };
    }
  | { ok: false; status: number; reason: string; headers: HeaderValues; end: CallEndReason };

/** Checks the INVITE, holds the plan's channels and negotiates its session timer, in that order. */
export function admitInvite(request: SipRequest, plan: CallPlan): InviteAdmission {
  const check = checkInvite(request);
  if (!check.ok) {
    const end = check.status === 483 ? 'rejected' : 'media-failed';
    return {
      ok: false,
      status: check.status,
      reason: check.reason,
      headers: check.headers ?? {},
      end,
    };
  }
  const releaseChannels = holdChannels(plan.channels ?? []);
  if (releaseChannels === undefined) {
    // A trunk or account at max_channels: the caller may try again later.
    const headers = { 'Retry-After': '10' };
    return { ok: false, status: 503, reason: 'Channel Limit Reached', headers, end: 'rejected' };
  }
  let callerTimer: { settings: TimerSettings | undefined; headers: HeaderValues } = {
    settings: undefined,
    headers: {},
  };
  if (plan.sessionTimer !== undefined) {
    const negotiated = uasNegotiate(request, plan.sessionTimer);
    if (!negotiated.ok) {
      releaseChannels();
      const reason = 'Session Interval Too Small';
      return { ok: false, status: 422, reason, headers: negotiated.headers, end: 'rejected' };
    }
    callerTimer = negotiated;
  }
  return {
    ok: true,
    offer: check.offer,
    maxForwards: check.maxForwards,
    releaseChannels,
    callerTimer,
  };
}
