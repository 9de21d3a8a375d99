/**
 * Failures of local sends and configuration. Peer input never produces these as exceptions:
 * it is counted and logged instead.
 */
export type TransportErrorCode =
  | 'SIP_ERR_FLOW_CLOSED'
  | 'SIP_ERR_CONNECT'
  | 'SIP_ERR_CONNECTION_LIMIT'
  | 'SIP_ERR_NO_LISTENING_POINT'
  | 'SIP_ERR_SEND'
  | 'SIP_ERR_TLS_CONFIG'
  | 'SIP_ERR_LISTEN'
  | 'SIP_ERR_CLOSED'
  | 'SIP_ERR_MESSAGE_TOO_LARGE';

export const TransportErrorCode = {
  FlowClosed: 'SIP_ERR_FLOW_CLOSED',
  Connect: 'SIP_ERR_CONNECT',
  ConnectionLimit: 'SIP_ERR_CONNECTION_LIMIT',
  NoListeningPoint: 'SIP_ERR_NO_LISTENING_POINT',
  Send: 'SIP_ERR_SEND',
  TlsConfig: 'SIP_ERR_TLS_CONFIG',
  Listen: 'SIP_ERR_LISTEN',
  Closed: 'SIP_ERR_CLOSED',
  MessageTooLarge: 'SIP_ERR_MESSAGE_TOO_LARGE',
} as const satisfies Record<string, TransportErrorCode>;

export class TransportError extends Error {
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.code = code;
  }
}
