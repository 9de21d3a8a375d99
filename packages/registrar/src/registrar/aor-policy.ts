/**
 * Which domains this registrar serves and which addresses-of-record exist in them (RFC 3261
 * §10.3 steps 1 and 5). The control plane implements it over its directory; the static policy
 * serves embedders and tests.
 */
import type { Aor } from './aor.js';

export type AorDecision =
  | { ok: true }
  /** 404 for an unknown user or domain (§10.3 step 5), or another refusal (403). */
  | { ok: false; status: number; reason?: string };

export interface AorPolicy {
  /** §10.3 step 1: does this registrar hold bindings for the Request-URI's domain? */
  servesDomain(domain: string): boolean | Promise<boolean>;
  /** §10.3 step 5: is the To address-of-record valid for the Request-URI's domain? */
  checkAor(aor: Aor, requestDomain: string): AorDecision | Promise<AorDecision>;
}

/** Every domain, every user; the To domain must be the Request-URI's. */
export const openAorPolicy: AorPolicy = {
  servesDomain: () => true,
  checkAor: (aor, requestDomain) =>
    aor.domain === requestDomain ? { ok: true } : { ok: false, status: 404, reason: 'Not Found' },
};

export interface StaticAorPolicyOptions {
  /** Served domains and their users; `'*'` accepts any user of the domain. */
  domains: Readonly<Record<string, readonly string[] | '*'>>;
}

/** A fixed table of domains and users. */
export class StaticAorPolicy implements AorPolicy {
  readonly #domains: Map<string, Set<string> | '*'>;

  constructor(options: StaticAorPolicyOptions) {
    this.#domains = new Map(
      Object.entries(options.domains).map(([d, users]) => [
        d.toLowerCase(),
        users === '*' ? '*' : new Set(users),
      ]),
    );
  }

  servesDomain(domain: string): boolean {
    return this.#domains.has(domain.toLowerCase());
  }

  checkAor(aor: Aor, requestDomain: string): AorDecision {
    if (aor.domain !== requestDomain.toLowerCase())
      return { ok: false, status: 404, reason: 'Not Found' };
    const users = this.#domains.get(aor.domain);
    if (users === undefined) return { ok: false, status: 404, reason: 'Not Found' };
    if (users !== '*' && !users.has(aor.user))
      return { ok: false, status: 404, reason: 'Not Found' };
    return { ok: true };
  }
}
