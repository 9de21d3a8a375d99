/** Stable codes for dialog-layer failures; callers match on `code`. */
export const DialogErrorCode = Object.freeze({
  /** A dialog was asked to make a move its transition table forbids. */
  State: 'SIP_ERR_DIALOG_STATE',
  /** A request the dialog cannot build (ACK/CANCEL through createRequest, request in a terminated dialog). */
  Request: 'SIP_ERR_DIALOG_REQUEST',
} as const);

export type DialogErrorCode = (typeof DialogErrorCode)[keyof typeof DialogErrorCode];

export class DialogError extends Error {
  override readonly name = 'DialogError';
  readonly code: DialogErrorCode;

  constructor(code: DialogErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
