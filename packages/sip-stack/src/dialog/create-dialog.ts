import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { Dialog } from './dialog.js';

export type CreateDialogResult = { ok: true; dialog: Dialog } | { ok: false; reason: string };

const fail = (reason: string): CreateDialogResult => ({ ok: false, reason });

/** RFC 3261 §12.1.1: a dialog is created by 2xx, or by 1xx with a To tag (early). */
function dialogStateFor(status: number): 'Early' | 'Confirmed' | undefined {
  if (status >= 200 && status < 300) return 'Confirmed';
  if (status > 100 && status < 200) return 'Early';
  return undefined;
}

/** The request was sent over TLS to a SIPS URI (RFC 3261 §12.1.1, §12.1.2). */
function isSecure(request: SipRequest, overTls: boolean): boolean {
  return overTls && request.uri.slice(0, 5).toLowerCase() === 'sips:';
}

/**
 * UAC side (RFC 3261 §12.1.2): from the request we sent and a 1xx-with-tag or 2xx we received.
 * Route set = Record-Route of the response, reversed; remote target = its Contact; local CSeq = the
 * request's; remote CSeq empty. A 2xx without a To tag (RFC 2543 peer) gets an empty remote tag.
 */
export function createUacDialog(
  request: SipRequest,
  response: SipResponse,
  options: { overTls?: boolean } = {},
): CreateDialogResult {
  const state = dialogStateFor(response.status);
  if (state === undefined) return fail(`status ${response.status} creates no dialog`);
  const remoteTag = response.toTag;
  // RFC 3261 §12.1: only a provisional with a To tag creates an early dialog.
  if (state === 'Early' && remoteTag === undefined)
    return fail('provisional response without To tag');
  const localTag = request.fromTag;
  if (localTag === undefined) return fail('request has no From tag');
  const contact = response.contacts[0];
  if (contact === undefined || contact.star) return fail('response has no Contact');
  const localContact = request.contacts[0];
  return {
    ok: true,
    dialog: new Dialog({
      role: 'uac',
      state,
      id: { callId: request.callId, localTag, remoteTag: remoteTag ?? '' },
      local: request.from,
      remote: request.to,
      remoteTarget: contact.uri,
      routeSet: [...response.recordRoutes].reverse(),
      localSeq: request.cseq.seq,
      remoteSeq: undefined,
      secure: isSecure(request, options.overTls ?? true),
      localTarget: localContact === undefined || localContact.star ? undefined : localContact.uri,
    }),
  };
}

/**
 * UAS side (RFC 3261 §12.1.1): from the request we received and the 1xx/2xx we send (with our tag).
 * Route set = Record-Route of the request, in order; remote target = its Contact; remote CSeq = the
 * request's; local CSeq empty.
 */
export function createUasDialog(
  request: SipRequest,
  response: SipResponse,
  options: { overTls?: boolean } = {},
): CreateDialogResult {
  const state = dialogStateFor(response.status);
  if (state === undefined) return fail(`status ${response.status} creates no dialog`);
  const localTag = response.toTag;
  if (localTag === undefined) return fail('response has no To tag');
  const contact = request.contacts[0];
  if (contact === undefined || contact.star) return fail('request has no Contact');
  const localContact = response.contacts[0];
  return {
    ok: true,
    dialog: new Dialog({
      role: 'uas',
      state,
      // RFC 3261 §12.1.1: remote tag = From tag of the request (empty for an RFC 2543 peer).
      id: { callId: request.callId, localTag, remoteTag: request.fromTag ?? '' },
      local: request.to,
      remote: request.from,
      remoteTarget: contact.uri,
      routeSet: [...request.recordRoutes],
      localSeq: undefined,
      remoteSeq: request.cseq.seq,
      secure: isSecure(request, options.overTls ?? true),
      localTarget: localContact === undefined || localContact.star ? undefined : localContact.uri,
    }),
  };
}
