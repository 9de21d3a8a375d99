/**
 * Runs one request through a client transaction and settles with its final response, answering
 * one 401/407 challenge when credentials are known (RFC 3261 §22.2, §22.3). For an INVITE every
 * 2xx (retransmissions too, RFC 6026 §7.2) goes to `onSuccess`, which sends the ACK.
 */
import type { DigestCredentialSource } from '../auth/digest-client.js';
import { generateBranch } from '../message/ids.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { ClientTransactionHandler } from '../transaction/transaction-user.js';
import type { Target } from '../transport/transport.js';
import type { EndpointContext } from './endpoint-context.js';
import { EndpointError, EndpointErrorCode } from './endpoint-error.js';
import type { ProvisionalHandler } from './endpoint-options.js';

export interface ClientRequestOptions {
  credentials?: DigestCredentialSource | undefined;
  onProvisional?: ProvisionalHandler | undefined;
  /**
   * In a dialog the retry must take the dialog's next CSeq: given the authorised copy, return the
   * request to send (default: the copy itself, CSeq + 1).
   */
  rebuild?: ((authorised: SipRequest) => SipRequest) | undefined;
  /** INVITE: called for each 2xx, before the promise settles with the first. */
  onSuccess?: ((request: SipRequest, response: SipResponse) => void) | undefined;
}

/** A placeholder top Via with a fresh branch: the transport fills sent-by for the flow it picks. */
export function freshVia(request: SipRequest): void {
  request.setTopVia(`SIP/2.0/UDP 0.0.0.0;branch=${generateBranch()};rport`);
}

/** Copies the credentials headers of `from` onto `to` (RFC 3261 §22.2 retry inside a dialog). */
export function copyCredentials(from: SipRequest, to: SipRequest): SipRequest {
  for (const name of ['Authorization', 'Proxy-Authorization']) {
    const values = from.headers.getAll(name);
    if (values.length > 0) to.headers.set(name, values);
  }
  return to;
}

export function sendError(
  code: EndpointErrorCode,
  message: string,
  cause?: unknown,
): EndpointError {
  return new EndpointError(code, message, cause === undefined ? {} : { cause });
}

/** Answers a 401/407 once; the next request to send, or undefined to give the response to the caller. */
export function authorizedRetry(
  ctx: EndpointContext,
  request: SipRequest,
  response: SipResponse,
  options: ClientRequestOptions,
): SipRequest | undefined {
  if (response.status !== 401 && response.status !== 407) return undefined;
  const source = options.credentials ?? ctx.credentials;
  if (source === undefined) return undefined;
  const auth = ctx.digest.authorize(request, response, source);
  if (!auth.ok) {
    ctx.logger.debug({ reason: auth.reason, detail: auth.detail }, 'challenge not answered');
    return undefined;
  }
  const next = options.rebuild?.(auth.request) ?? auth.request;
  freshVia(next);
  return next;
}

export function sendClientRequest(
  ctx: EndpointContext,
  request: SipRequest,
  target: Target,
  options: ClientRequestOptions = {},
): Promise<SipResponse> {
  return new Promise<SipResponse>((resolve, reject) => {
    let current = request;
    let retried = false;
    let settled = false;
    const unregister = ctx.onClose(() =>
      finish(() => reject(sendError(EndpointErrorCode.Closed, 'endpoint closed'))),
    );
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      unregister();
      fn();
    };
    const handler: ClientTransactionHandler = {
      onResponse: (response) => {
        if (response.status < 200) {
          if (!settled) options.onProvisional?.(response);
          return;
        }
        if (response.status < 300 && options.onSuccess !== undefined) {
          options.onSuccess(current, response);
          finish(() => resolve(response));
          return;
        }
        if (settled) return;
        const retry = retried ? undefined : authorizedRetry(ctx, current, response, options);
        if (retry !== undefined) {
          retried = true;
          current = retry;
          send();
          return;
        }
        finish(() => resolve(response));
      },
      onTimeout: () =>
        finish(() =>
          reject(sendError(EndpointErrorCode.Timeout, `${current.method}: no final response`)),
        ),
      onTransportError: (err) =>
        finish(() => reject(sendError(EndpointErrorCode.Transport, err.message, err))),
    };
    const send = (): void => {
      try {
        ctx.transactions.sendRequest(current, target, handler);
      } catch (err) {
        finish(() => reject(sendError(EndpointErrorCode.State, String(err), err)));
      }
    };
    if (ctx.closed) finish(() => reject(sendError(EndpointErrorCode.Closed, 'endpoint closed')));
    else send();
  });
}
