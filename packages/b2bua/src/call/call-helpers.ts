/** Small rules of the call set-up, kept apart from the Call machinery. */
import type { IncomingRequest, SipResponse } from '@switchboard/sip-stack';

const SDP = 'application/sdp';

/** RFC 3262: the caller said it takes reliable provisionals. */
export function supports100rel(request: IncomingRequest): boolean {
  const tags = [
    ...request.request.headers.values('Supported'),
    ...request.request.headers.values('Require'),
  ];
  return tags.some((t) => t.trim().toLowerCase() === '100rel');
}

export function hasSdp(response: SipResponse): boolean {
  const type = response.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  return response.body.length > 0 && type === SDP;
}

/** A callee's failure as the caller should see it: no challenge or redirect of another leg. */
export function callerStatus(status: number): number {
  // RFC 3261 §16.7 item 6 (as a proxy would): 503 becomes 500.
  if (status === 503) return 500;
  // The callee's challenge and redirect target belong to that leg, not to the caller.
  if (status === 401 || status === 407) return 403;
  if (status >= 300 && status < 400) return 480;
  return status;
}
