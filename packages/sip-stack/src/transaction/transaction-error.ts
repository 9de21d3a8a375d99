/** Stable codes for failures the transaction layer reports; callers match on `code`. */
export const TransactionErrorCode = Object.freeze({
  /** Timer B, F or H fired: no (final) response / no ACK in time. */
  Timeout: 'SIP_ERR_TIMEOUT',
  /** The transport could not send a message of the transaction. */
  Transport: 'SIP_ERR_TRANSPORT',
  /** A machine was asked to make a move its transition table forbids (a bug in the caller). */
  State: 'SIP_ERR_TX_STATE',
  /** `sendRequest` got a request it cannot run a transaction for (ACK, no branch, duplicate). */
  Request: 'SIP_ERR_TX_REQUEST',
} as const);

export type TransactionErrorCode = (typeof TransactionErrorCode)[keyof typeof TransactionErrorCode];

export class TransactionError extends Error {
  override readonly name = 'TransactionError';
  readonly code: TransactionErrorCode;

  constructor(code: TransactionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
