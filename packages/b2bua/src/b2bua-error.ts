/** Stable codes for failures the B2BUA reports; callers match on `code`. */
export const B2buaErrorCode = Object.freeze({
  /** An operation that does not fit the call's state (a bug in the caller or in us). */
  State: 'B2BUA_ERR_STATE',
  /** A media leg could not be attached (no audio, the party refused the codec change). */
  Media: 'B2BUA_ERR_MEDIA',
} as const);
export type B2buaErrorCode = (typeof B2buaErrorCode)[keyof typeof B2buaErrorCode];

export class B2buaError extends Error {
  override readonly name = 'B2buaError';
  readonly code: B2buaErrorCode;
  /** SIP status, when one caused or answers the failure. */
  readonly status: number | undefined;

  constructor(
    code: B2buaErrorCode,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}
