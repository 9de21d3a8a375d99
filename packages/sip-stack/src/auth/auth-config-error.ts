/** A DigestServer / DigestNonce set up with unusable options; thrown at construction only. */
export class AuthConfigError extends Error {
  readonly code = 'SIP_ERR_AUTH_CONFIG' as const;

  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}
