import type { SipRequest } from '../message/sip-message.js';
import type { Via } from '../message/via.js';

/** RFC 3261 §8.1.1.7: branches of RFC 3261 elements start with this cookie. */
export const MAGIC_COOKIE = 'z9hG4bK';

/** RFC 3261 §17.1.3: a client transaction is identified by top-Via branch + CSeq method. */
export function clientKey(branch: string, method: string): string {
  return `${branch} ${method}`;
}

/**
 * RFC 3261 §17.2.3 server transaction key, with `method` standing for the request method
 * (ACK is matched against INVITE; CANCEL against INVITE for §9.2 lookups).
 * RFC 3261 branch: branch + sent-by + method. Otherwise the RFC 2543 fallback: Request-URI,
 * To tag, From tag, Call-ID, CSeq number, top Via, method (`toTag` defaults to the request's; an
 * ACK looks up its INVITE with the INVITE's To tag, see TransactionLayer).
 */
export function serverKey(request: SipRequest, method: string, toTag?: string): string | undefined {
  const via = request.topVia;
  if (via === undefined) return undefined;
  const branch = via.branch;
  if (branch !== undefined && branch.startsWith(MAGIC_COOKIE)) {
    return `${branch} ${sentBy(via)} ${method}`;
  }
  // RFC 3261 §17.2.3: RFC 2543 compatible matching (the To tag is read only on this path).
  const tag = toTag ?? request.toTag;
  return `2543 ${request.uri} ${tag ?? ''} ${request.fromTag ?? ''} ${request.callId} ${request.cseq.seq} ${viaIdentity(via)} ${method}`;
}

/** Key a request uses to find its own transaction: ACK → the INVITE's (RFC 3261 §17.2.3). */
export function ownServerKey(request: SipRequest): string | undefined {
  return serverKey(request, request.method === 'ACK' ? 'INVITE' : request.method);
}

/**
 * The same key as one flat string. A key built from slices of a parsed message keeps that
 * message's text alive in V8 for as long as the key lives (32 s in Completed over UDP);
 * converting it to a number forces V8 to flatten it into a fresh copy (the `flatstr` technique).
 */
export function detachKey(key: string): string {
  void Number(key);
  return key;
}

/** True when the key came from the RFC 2543 fallback. */
export function isLegacyKey(key: string): boolean {
  return key.startsWith('2543 ');
}

function sentBy(via: Via): string {
  return via.port === undefined ? via.host.toLowerCase() : `${via.host.toLowerCase()}:${via.port}`;
}

function viaIdentity(via: Via): string {
  return `${via.transport}/${sentBy(via)};${via.branch ?? ''}`;
}
