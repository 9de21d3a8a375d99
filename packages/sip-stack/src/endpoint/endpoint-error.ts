import type { SipResponse } from '../message/sip-message.js';

/** Stable codes for failures the Endpoint API reports; callers match on `code`. */
export const EndpointErrorCode = Object.freeze({
  /** The endpoint (or the dialog) was closed while the operation was pending. */
  Closed: 'SIP_ERR_ENDPOINT_CLOSED',
  /** No final response in time (Timer B/F, or the INVITE's own timeout). */
  Timeout: 'SIP_ERR_TIMEOUT',
  /** The transport could not send the request. */
  Transport: 'SIP_ERR_TRANSPORT',
  /** No next hop could be found for the request (bad URI, DNS gave nothing, no listening point). */
  NoTarget: 'SIP_ERR_NO_TARGET',
  /** An INVITE ended with a final non-2xx response; `status` and `response` are set. */
  Rejected: 'SIP_ERR_REJECTED',
  /** An INVITE we cancelled ended (487, or a 2xx we then hung up). */
  Cancelled: 'SIP_ERR_CANCELLED',
  /** The operation does not fit the current state (respond twice, request in a terminated dialog). */
  State: 'SIP_ERR_ENDPOINT_STATE',
  /** A caller-supplied argument is unusable (bad URI, bad status). */
  Argument: 'SIP_ERR_ENDPOINT_ARGUMENT',
} as const);

export type EndpointErrorCode = (typeof EndpointErrorCode)[keyof typeof EndpointErrorCode];

export interface EndpointErrorOptions {
  cause?: unknown;
  status?: number;
  response?: SipResponse;
}

export class EndpointError extends Error {
  override readonly name = 'EndpointError';
  readonly code: EndpointErrorCode;
  /** SIP status, when a response caused the failure. */
  readonly status: number | undefined;
  /** The final response, when one caused the failure. */
  readonly response: SipResponse | undefined;

  constructor(code: EndpointErrorCode, message: string, options: EndpointErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? options.response?.status;
    this.response = options.response;
  }
}
