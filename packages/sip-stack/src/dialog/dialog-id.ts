import type { SipRequest, SipResponse } from '../message/sip-message.js';

/** RFC 3261 §12: a dialog is identified by Call-ID, local tag and remote tag. */
export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

/** Map key of a dialog id (tags and Call-ID contain no NUL). */
export function dialogKey(id: DialogId): string {
  return `${id.callId}\u0000${id.localTag}\u0000${id.remoteTag}`;
}

/** RFC 3261 §12.2.2: for a request we receive, the local tag is the To tag, the remote tag the From tag. */
export function incomingRequestDialogId(request: SipRequest): DialogId {
  return {
    callId: request.callId,
    localTag: request.toTag ?? '',
    remoteTag: request.fromTag ?? '',
  };
}

/** RFC 3261 §12.1.2: for a response we receive (we are UAC), local = From tag, remote = To tag. */
export function incomingResponseDialogId(response: SipResponse): DialogId {
  return {
    callId: response.callId,
    localTag: response.fromTag ?? '',
    remoteTag: response.toTag ?? '',
  };
}
