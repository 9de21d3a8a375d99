/**
 * Via branch values this proxy puts on forwarded requests (RFC 3261 §16.6 item 8): the magic
 * cookie, our marker, a hash over the fields that affect routing (the loop-detection part), and a
 * per-branch part that makes each client transaction unique.
 */
import { hash as oneShotHash } from 'node:crypto';
import type { SipRequest } from '../message/sip-message.js';
import { generateBranch } from '../message/ids.js';

/** "z9hG4bK" (RFC 3261 §8.1.1.7) + "sb": marks branches this proxy made. */
export const PROXY_BRANCH_PREFIX = 'z9hG4bKsb';

const HASH_LENGTH = 16;

/**
 * RFC 3261 §16.6 item 8: hash of the To tag, From tag, Call-ID, Request-URI as received, CSeq
 * number, Route, Proxy-Require and Proxy-Authorization. The received top Via is left out on
 * purpose: a looped request reaches us with another hop's Via on top, and including it would turn
 * every loop into a spiral; the per-branch part keeps branches unique instead.
 */
export function loopHash(request: SipRequest): string {
  const sep = '\n';
  // one string, hashed in one call: the same digest as feeding the parts one by one
  let text = `${request.toTag ?? ''}${sep}${request.fromTag ?? ''}${sep}${request.callId}${sep}${request.uri}${sep}${request.cseq.seq}`;
  for (const name of LOOP_HEADERS) {
    for (const line of request.headers.getAll(name)) text += `${sep}${name}:${line.trim()}`;
  }
  return oneShotHash('sha1', text, 'base64url').slice(0, HASH_LENGTH);
}

const LOOP_HEADERS = ['Route', 'Proxy-Require', 'Proxy-Authorization'] as const;

/** A fresh branch for one client transaction of this request. */
export function proxyBranch(hash: string): string {
  return `${PROXY_BRANCH_PREFIX}${hash}.${generateBranch().slice(7)}`;
}

/**
 * RFC 3261 §16.11: a request forwarded statelessly (the ACK for a 2xx) gets the same branch each
 * time it is retransmitted: derived from the received top Via branch.
 */
export function statelessBranch(request: SipRequest, hash: string): string {
  const upstream = request.topVia?.branch ?? request.headers.get('Via') ?? '';
  const part = oneShotHash('sha1', upstream, 'base64url').slice(0, 12);
  return `${PROXY_BRANCH_PREFIX}${hash}.${part}`;
}

/** The loop-detection part of a branch this proxy made, or undefined for other branches. */
export function branchLoopHash(branch: string | undefined): string | undefined {
  if (branch === undefined || !branch.startsWith(PROXY_BRANCH_PREFIX)) return undefined;
  const dot = branch.indexOf('.', PROXY_BRANCH_PREFIX.length);
  return dot < 0 ? undefined : branch.slice(PROXY_BRANCH_PREFIX.length, dot);
}
