/** REGISTER authentication (RFC 3261 §10.3 steps 3–4) through the brain's `authenticate`. */
import type { AuthOutcome, RegistrarAuthenticator } from '@switchboard/registrar';
import type { SipRequest } from '@switchboard/sip-stack';
import type { BrainDigest, BrainDigestResult } from './brain-digest.js';

export class BrainRegistrarAuthenticator implements RegistrarAuthenticator {
  readonly #digest: BrainDigest;

  constructor(digest: BrainDigest) {
    this.#digest = digest;
  }

  /** At once for a challenge (no credentials yet), after the brain's answer otherwise. */
  authenticate(request: SipRequest): AuthOutcome | Promise<AuthOutcome> {
    const r = this.#digest.verify(request);
    return 'then' in r ? r.then(outcome) : outcome(r);
  }
}

function outcome(r: BrainDigestResult): AuthOutcome {
  if (!r.ok) return { ok: false, response: r.response };
  return {
    ok: true,
    identity: {
      username: r.username,
      realm: r.realm,
      // kept with the binding, so registration events name the brain's ids
      attributes: { accountId: r.accountId, userId: r.userId, deviceId: r.deviceId },
    },
  };
}
