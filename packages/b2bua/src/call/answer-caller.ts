/**
 * The caller's 2xx once a callee answered: the callee's answer rewritten through the relay, or,
 * when the caller sent no offer (RFC 3264 §5 delayed offer), our offer built from it, whose answer
 * must come back in the caller's ACK.
 */
import type {
  DialogSession,
  EndpointLogger,
  HeaderValues,
  IncomingRequest,
  SipResponse,
} from '@switchboard/sip-stack';
import type { MediaAnchor } from '../sdp/media-anchor.js';
import { hasSdp } from './call-helpers.js';
import { mediaWarning } from './check-invite.js';
import { ALLOW } from './outbound-request.js';

const SDP = 'application/sdp';

export interface AnswerCallerInput {
  caller: IncomingRequest;
  media: MediaAnchor;
  logger: EndpointLogger;
  delayedOffer: boolean;
  /** Session-timer headers for the 2xx. */
  headers: HeaderValues;
  /** Delayed offer: the ACK brought no usable answer (the call must end with BYE both ways). */
  badAnswer: (reason: string) => void;
}

export type AnswerCallerResult =
  | { ok: true; dialog: DialogSession }
  | { ok: false; status: number; reason: string; headers: HeaderValues }
  | { ok: false; status: undefined };

/** Answers the caller for the callee's 2xx `response`. */
export function answerCaller(input: AnswerCallerInput, response: SipResponse): AnswerCallerResult {
  const { media, caller } = input;
  const answer = hasSdp(response) ? media.answer('b', response.body.toString('utf8')) : undefined;
  // With a delayed offer, the callee's answer becomes our offer to the caller.
  const toCaller = input.delayedOffer && answer?.ok === true ? media.expectAnswer('a') : answer;
  if (toCaller === undefined || !toCaller.ok) {
    const reason = toCaller?.ok === false ? toCaller.reason : 'no SDP answer in the 2xx';
    return {
      ok: false,
      status: 488,
      reason: 'Not Acceptable Here',
      headers: mediaWarning(488, reason),
    };
  }
  let dialog: DialogSession;
  try {
    dialog = caller.accept({
      body: toCaller.sdp,
      contentType: SDP,
      headers: { ...input.headers, Allow: ALLOW },
    });
  } catch (err) {
    input.logger.warn({ err, callId: caller.request.callId }, 'caller could not be answered');
    return { ok: false, status: undefined };
  }
  if (input.delayedOffer) dialog.once('ack', (ack) => onCallerAnswer(input, ack.body));
  return { ok: true, dialog };
}

/** RFC 3264 §4 / RFC 3261 §13.2.1: our offer went in the 2xx, so the ACK must carry the answer. */
function onCallerAnswer(input: AnswerCallerInput, body: Buffer): void {
  const answer = body.length === 0 ? undefined : input.media.answer('a', body.toString('utf8'));
  if (answer?.ok === true) return;
  input.media.rollback();
  input.badAnswer(answer?.reason ?? 'no answer in the ACK');
}
