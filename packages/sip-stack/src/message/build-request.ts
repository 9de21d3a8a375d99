// createRequest, and ACK (RFC 3261 §17.1.1.3) and CANCEL (§9.1) built from an INVITE.

import { SipHeaders } from './sip-headers.js';
import { SipRequest, type SipResponse } from './sip-message.js';
import { formatNameAddr, type NameAddr } from './name-addr.js';
import { generateBranch } from './ids.js';
import { appendHeaders, bodyBuffer } from './build-response.js';
import { valueEnd } from './header-values.js';

export interface CreateRequestOptions {
  method: string;
  uri: string;
  from: string | NameAddr;
  to: string | NameAddr;
  callId: string;
  cseq: number;
  /** Via values, top first. Default: one placeholder `SIP/2.0/UDP 0.0.0.0;branch=<fresh>;rport`
   *  whose sent-by the transport fills in. */
  via?: readonly string[];
  contact?: string;
  /** Default 70 (RFC 3261 §8.1.1.6). */
  maxForwards?: number;
  route?: readonly string[];
  headers?: Record<string, string | readonly string[]>;
  body?: Buffer | string;
  contentType?: string;
}

const addr = (v: string | NameAddr): string => (typeof v === 'string' ? v : formatNameAddr(v));

/** A new request with the mandatory headers of RFC 3261 §8.1.1. */
export function createRequest(opts: CreateRequestOptions): SipRequest {
  const h = new SipHeaders();
  const vias = opts.via ?? [`SIP/2.0/UDP 0.0.0.0;branch=${generateBranch()};rport`];
  for (const v of vias) h.append('Via', v);
  h.append('Max-Forwards', String(opts.maxForwards ?? 70));
  for (const r of opts.route ?? []) h.append('Route', r);
  h.append('From', addr(opts.from));
  h.append('To', addr(opts.to));
  h.append('Call-ID', opts.callId);
  h.append('CSeq', `${opts.cseq} ${opts.method}`);
  if (opts.contact !== undefined) h.append('Contact', opts.contact);
  appendHeaders(h, opts.headers);
  if (opts.contentType !== undefined) h.set('Content-Type', opts.contentType);
  return new SipRequest(opts.method, opts.uri, h, bodyBuffer(opts.body));
}

/** The top Via value of a request (first value of the first Via line). */
function topViaValue(req: SipRequest): string | undefined {
  const line = req.headers.get('Via');
  return line === undefined ? undefined : line.slice(0, valueEnd(line, 0)).trim();
}

/** Headers shared by ACK and CANCEL: one Via (the request's top), Max-Forwards, Route, From, Call-ID. */
function hopHeaders(req: SipRequest): SipHeaders {
  const h = new SipHeaders();
  const via = topViaValue(req);
  if (via !== undefined) h.append('Via', via);
  h.append('Max-Forwards', String(req.maxForwards ?? 70));
  for (const r of req.headers.getAll('Route')) h.append('Route', r);
  const from = req.headers.get('From');
  if (from !== undefined) h.append('From', from);
  return h;
}

/**
 * RFC 3261 §17.1.1.3: ACK for a non-2xx final response: Request-URI, Call-ID, From, top Via and
 * Route of the INVITE; To from the response (with its tag); CSeq number of the INVITE, method ACK.
 */
export function createAck(invite: SipRequest, response: SipResponse): SipRequest {
  const h = hopHeaders(invite);
  const to = response.headers.get('To') ?? invite.headers.get('To');
  if (to !== undefined) h.append('To', to);
  h.append('Call-ID', invite.callId);
  h.append('CSeq', `${invite.cseq.seq} ACK`);
  return new SipRequest('ACK', invite.uri, h);
}

/**
 * RFC 3261 §9.1: CANCEL: same Request-URI, Call-ID, To, From, CSeq number and top Via (same
 * branch) as the request; Route copied; method CANCEL; no body.
 */
export function createCancel(req: SipRequest): SipRequest {
  const h = hopHeaders(req);
  const to = req.headers.get('To');
  if (to !== undefined) h.append('To', to);
  h.append('Call-ID', req.callId);
  h.append('CSeq', `${req.cseq.seq} CANCEL`);
  return new SipRequest('CANCEL', req.uri, h);
}
