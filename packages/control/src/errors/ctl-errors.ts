/**
 * The one registry of control-plane error codes and the HTTP status each maps to (STYLE.md:
 * "The control plane keeps one registry of its codes with HTTP statuses"). Callers match on `code`.
 */
export const CTL_ERRORS = Object.freeze({
  CTL_ERR_VALIDATION: 400,
  CTL_ERR_BAD_REQUEST: 400,
  CTL_ERR_UNAUTHORIZED: 401,
  CTL_ERR_AUTH_FAILED: 401,
  CTL_ERR_PAYMENT_REQUIRED: 402,
  CTL_ERR_FORBIDDEN: 403,
  CTL_ERR_MISSING_SCOPE: 403,
  CTL_ERR_ACCOUNT_DISABLED: 403,
  CTL_ERR_NOT_FOUND: 404,
  CTL_ERR_UNKNOWN_DEVICE: 404,
  CTL_ERR_UNKNOWN_DESTINATION: 404,
  CTL_ERR_CONFLICT: 409,
  CTL_ERR_TOO_LARGE: 413,
  CTL_ERR_UNSUPPORTED_MEDIA: 415,
  CTL_ERR_CONSTRAINT: 422,
  CTL_ERR_REFERENCE: 422,
  CTL_ERR_LIMIT_REACHED: 429,
  CTL_ERR_ROUTING_LOOP: 508,
  CTL_ERR_INTERNAL: 500,
  CTL_ERR_CONFIG: 500,
  CTL_ERR_UNAVAILABLE: 503,
} as const);

export type CtlErrorCode = keyof typeof CTL_ERRORS;

/** The wire shape of every error the control plane returns: `{ code, message }`. */
export interface CtlErrorBody {
  code: CtlErrorCode;
  message: string;
}

/** A typed failure that callers handle. Carries the stable code and its HTTP status. */
export class CtlError extends Error {
  readonly code: CtlErrorCode;
  readonly status: number;
  /** The field (body path or column) the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(code: CtlErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'CtlError';
    this.code = code;
    this.status = CTL_ERRORS[code];
    this.field = field;
  }

  toBody(): CtlErrorBody {
    return { code: this.code, message: this.message };
  }
}

export function httpStatusOf(code: CtlErrorCode): number {
  return CTL_ERRORS[code];
}

export function isCtlErrorCode(value: unknown): value is CtlErrorCode {
  return typeof value === 'string' && Object.hasOwn(CTL_ERRORS, value);
}

/** Result of an operation on untrusted input: never throws, says why it failed. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: CtlError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: CtlErrorCode, message: string, field?: string): Result<T> {
  return { ok: false, error: new CtlError(code, message, field) };
}
