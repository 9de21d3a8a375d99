// createResponse: a response to a request, copying headers per RFC 3261 §8.2.6.

import { SipHeaders } from './sip-headers.js';
import { SipResponse, type SipRequest } from './sip-message.js';
import { generateTag } from './ids.js';
import { reasonPhrase } from './reason-phrase.js';

export interface CreateResponseOptions {
  /** To tag to add when the request's To has none (default: a fresh tag). */
  toTag?: string;
  headers?: Record<string, string | readonly string[]>;
  body?: Buffer | string;
  contentType?: string;
  /** Copy Record-Route (RFC 3261 §12.1.1: responses that create a dialog). */
  copyRecordRoute?: boolean;
}

/** Appends each entry of `extra` to `headers`. */
export function appendHeaders(
  headers: SipHeaders,
  extra: Readonly<Record<string, string | readonly string[]>> | undefined,
): void {
  if (extra === undefined) return;
  for (const [name, v] of Object.entries(extra)) {
    if (typeof v === 'string') headers.append(name, v);
    else for (const one of v) headers.append(name, one);
  }
}

/** Sets the body and Content-Type. */
export function bodyBuffer(body: Buffer | string | undefined): Buffer | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

export function createResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  opts?: CreateResponseOptions,
): SipResponse {
  const src = req.headers;
  const h = new SipHeaders();
  // RFC 3261 §8.2.6.2: Via (all, in order), From, Call-ID, CSeq copied; To copied, tag added
  for (const v of src.getAll('Via')) h.append('Via', v);
  const from = src.get('From');
  if (from !== undefined) h.append('From', from);
  const to = src.get('To');
  if (to !== undefined) {
    // §8.2.6.2: a tag is added unless already present; a 100 (Trying) need not carry one
    const addTag = req.toTag === undefined && (status > 100 || opts?.toTag !== undefined);
    h.append('To', addTag ? to + ';tag=' + (opts?.toTag ?? generateTag()) : to);
  }
  const callId = src.get('Call-ID');
  if (callId !== undefined) h.append('Call-ID', callId);
  const cseq = src.get('CSeq');
  if (cseq !== undefined) h.append('CSeq', cseq);
  if (status === 100) {
    // §8.2.6.1: Timestamp is copied into a 100 (Trying)
    const ts = src.get('Timestamp');
    if (ts !== undefined) h.append('Timestamp', ts);
  }
  if (opts?.copyRecordRoute === true) {
    for (const rr of src.getAll('Record-Route')) h.append('Record-Route', rr);
  }
  appendHeaders(h, opts?.headers);
  const body = bodyBuffer(opts?.body);
  if (opts?.contentType !== undefined) h.set('Content-Type', opts.contentType);
  return new SipResponse(status, reason ?? reasonPhrase(status), h, body);
}
