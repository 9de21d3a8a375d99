/** Stable error codes of the relay; callers match on `error.code`. */
export const RtpErrorCode = {
  PortsExhausted: 'RTP_ERR_PORTS_EXHAUSTED',
  SessionClosed: 'RTP_ERR_SESSION_CLOSED',
  BadAddress: 'RTP_ERR_BAD_ADDRESS',
  Bind: 'RTP_ERR_BIND',
  BadOption: 'RTP_ERR_BAD_OPTION',
  RelayClosed: 'RTP_ERR_RELAY_CLOSED',
  Io: 'RTP_ERR_IO',
  NativeLoad: 'RTP_ERR_NATIVE_LOAD',
  Unsupported: 'RTP_ERR_UNSUPPORTED',
} as const;

export type RtpErrorCode = (typeof RtpErrorCode)[keyof typeof RtpErrorCode];

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(RtpErrorCode));

export class RtpRelayError extends Error {
  readonly code: RtpErrorCode;

  constructor(code: RtpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RtpRelayError';
    this.code = code;
  }
}

export function isRtpRelayError(value: unknown): value is RtpRelayError {
  return value instanceof RtpRelayError;
}

/**
 * Turns an error thrown by the native module (message `RTP_ERR_X: text`) into an
 * `RtpRelayError`. Anything unrecognised becomes `RTP_ERR_IO`.
 */
export function fromNativeError(error: unknown): RtpRelayError {
  if (error instanceof RtpRelayError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const match = /^(RTP_ERR_[A-Z_]+): (.*)$/s.exec(message);
  const code = match?.[1];
  if (match !== null && code !== undefined && KNOWN_CODES.has(code)) {
    return new RtpRelayError(code as RtpErrorCode, match[2] ?? message, { cause: error });
  }
  return new RtpRelayError(RtpErrorCode.Io, message, { cause: error });
}

/** Calls into the native module, rethrowing its errors as `RtpRelayError`. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw fromNativeError(error);
  }
}
