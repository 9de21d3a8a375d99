// Parse results and typed parse errors of the message layer.

import type { SipMessage, SipRequest } from './sip-message.js';

export type SipParseErrorCode =
  'SIP_ERR_PARSE' | 'SIP_ERR_TOO_LARGE' | 'SIP_ERR_VERSION' | 'SIP_ERR_INCOMPLETE';

export interface SipParseError {
  code: SipParseErrorCode;
  /** Human text, e.g. "bad CSeq header". */
  reason: string;
  /** Status to answer with when the message is answerable: 400, 505, 513. */
  status?: number;
  /** Best-effort request when the start line and top Via parsed: enough to build the error response. */
  request?: SipRequest;
}

export type ParseResult = { ok: true; message: SipMessage } | { ok: false; error: SipParseError };

export interface ParseOptions {
  /** Default 65536; larger messages fail with SIP_ERR_TOO_LARGE (status 513). */
  maxSize?: number;
  /**
   * Default true. Datagram: a body longer than Content-Length is truncated, a shorter one is an
   * error, a missing Content-Length means "the rest". Stream (false): Content-Length is required
   * and must match the remaining bytes exactly (the transport frames the message).
   */
  datagram?: boolean;
  /**
   * Default false. Also validate every header with a known grammar (all Via values, Contact,
   * Route, Record-Route, Expires, the Request-URI): what RFC 4475 torture tests ask for. The
   * default checks only what routing and transactions need.
   */
  strict?: boolean;
}
