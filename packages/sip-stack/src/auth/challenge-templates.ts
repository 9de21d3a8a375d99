import type { DigestAlgorithm, DigestQop } from './digest-algorithm.js';
import { formatDigestChallenge } from './digest-challenge.js';

/** Stands for the nonce in a challenge template (base64url nonces never contain it). */
const NONCE_SLOT = '\u0000nonce\u0000';
/** Realms whose challenge templates are kept before the memo is cleared. */
const MAX_REALMS = 1024;

export interface ChallengeTemplatesOptions {
  algorithms: readonly DigestAlgorithm[];
  qop: readonly DigestQop[];
  /** The opaque value of a realm, when opaque is sent. */
  opaque: ((realm: string) => string) | undefined;
  userhash: boolean;
}

/**
 * The challenge values of each realm (RFC 8760 §2.4: one per offered algorithm) formatted once,
 * split around the nonce, so that a challenge is a concatenation per algorithm. Each realm's name
 * is kept as a string of its own (not a slice of the request it came from): nonces are minted
 * with it and it is remembered with them.
 */
export class ChallengeTemplates {
  readonly #options: ChallengeTemplatesOptions;
  readonly #realms = new Map<string, RealmTemplates>();

  constructor(options: ChallengeTemplatesOptions) {
    this.#options = options;
  }

  /** The templates of a realm, made on first use (bounded memory: the memo is cleared when full). */
  of(realm: string): RealmTemplates {
    let t = this.#realms.get(realm);
    if (t === undefined) {
      const own = Buffer.from(realm, 'utf8').toString('utf8');
      t = new RealmTemplates(own, this.#options);
      if (this.#realms.size >= MAX_REALMS) this.#realms.clear();
      this.#realms.set(own, t);
    }
    return t;
  }
}

export class RealmTemplates {
  /** The realm, a string of its own. */
  readonly realm: string;
  readonly #options: ChallengeTemplatesOptions;
  readonly #fresh: (readonly [string, string])[];
  #stale: (readonly [string, string])[] | undefined;

  constructor(realm: string, options: ChallengeTemplatesOptions) {
    this.realm = realm;
    this.#options = options;
    this.#fresh = this.#make(false);
  }

  /** The challenge values with `nonce` in them. */
  values(nonce: string, stale: boolean): string[] {
    const templates = stale ? (this.#stale ??= this.#make(true)) : this.#fresh;
    return templates.map(([before, after]) => before + nonce + after);
  }

  #make(stale: boolean): (readonly [string, string])[] {
    const { algorithms, qop, opaque, userhash } = this.#options;
    return algorithms.map((algorithm) => {
      const full = formatDigestChallenge({
        realm: this.realm,
        nonce: NONCE_SLOT,
        algorithm,
        stale,
        userhash,
        ...(qop.length > 0 ? { qop: [...qop] } : {}),
        ...(opaque !== undefined ? { opaque: opaque(this.realm) } : {}),
      });
      const at = full.lastIndexOf(NONCE_SLOT);
      return [full.slice(0, at), full.slice(at + NONCE_SLOT.length)] as const;
    });
  }
}
