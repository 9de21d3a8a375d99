/** REGISTER authentication (RFC 3261 §10.3 steps 3–4) through the brain's `authenticate`. */
import type { AuthOutcome, RegistrarAuthenticator } from '@switchboard/registrar';
import type { SipRequest } from '@switchboard/sip-stack';
import type { BrainDigest } from './brain-digest.js';

export class BrainRegistrarAuthenticator implements RegistrarAuthenticator {
  readonly #digest: BrainDigest;

  constructor(digest: BrainDigest) {
    this.#digest = digest;
  }

  async authenticate(request: SipRequest): Promise<AuthOutcome> {
    const r = await this.#digest.verify(request);
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
}
