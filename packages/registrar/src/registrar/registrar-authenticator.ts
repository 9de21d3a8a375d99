/**
 * Authentication of REGISTER requests (RFC 3261 §10.3 steps 3–4). The control plane implements
 * `RegistrarAuthenticator`; `DigestRegistrarAuthenticator` does it with the stack's DigestServer
 * over a credentials lookup, for embedders and tests.
 */
import {
  DigestServer,
  computeHa1,
  isSipUri,
  type DigestServerOptions,
  type Flow,
  type SipRequest,
  type SipResponse,
} from '@switchboard/sip-stack';
import type { AuthIdentity } from '../location/binding.js';
import type { Aor } from './aor.js';

export interface AuthContext {
  /** Domain of the Request-URI. */
  domain: string;
  flow: Flow;
}

export type AuthOutcome =
  | { ok: true; identity: AuthIdentity }
  /** A response to send as is (e.g. a 401 challenge built by DigestServer). */
  | { ok: false; response: SipResponse }
  /** A status for the registrar to answer with (401 needs `WWW-Authenticate` in headers). */
  | { ok: false; status: number; reason?: string; headers?: Record<string, string | string[]> };

export interface RegistrarAuthenticator {
  /**
   * §10.3 step 3: who sent this REGISTER; a challenge (401) when unauthenticated. May answer at
   * once (no promise) when it needs nothing it has to wait for, e.g. a request without credentials.
   */
  authenticate(request: SipRequest, context: AuthContext): AuthOutcome | Promise<AuthOutcome>;
  /**
   * §10.3 step 4: may this identity modify the bindings of `aor`? Default: the authenticated
   * username is the AOR's user (or `user@domain`).
   */
  authorize?(identity: AuthIdentity, aor: Aor): boolean | Promise<boolean>;
}

/** The default authorization rule of step 4. */
export function sameUser(identity: AuthIdentity, aor: Aor): boolean {
  return identity.username === aor.user || identity.username === aor.key;
}

/** A password, or the base HA1 of the algorithm family asked for (see computeHa1). */
export type RegistrarCredentials = { password: string } | { ha1: string };

export type CredentialsLookup = (
  username: string,
  realm: string,
) => RegistrarCredentials | undefined | Promise<RegistrarCredentials | undefined>;

export interface DigestRegistrarAuthenticatorOptions {
  credentials: CredentialsLookup;
  /** A configured DigestServer; default one whose realm is the Request-URI host. */
  digest?: DigestServer;
  /** Options of the default DigestServer (realm defaults to the Request-URI host). */
  digestOptions?: Partial<DigestServerOptions>;
  /** Step 4 rule (default sameUser). */
  authorize?: (identity: AuthIdentity, aor: Aor) => boolean | Promise<boolean>;
}

function requestHost(request: SipRequest): string {
  const uri = request.requestUri;
  return isSipUri(uri) ? uri.host.toLowerCase() : '';
}

/** Digest (RFC 3261 §22, RFC 7616) with stateless nonces: a wrong password costs one challenge. */
export class DigestRegistrarAuthenticator implements RegistrarAuthenticator {
  readonly #digest: DigestServer;
  readonly #credentials: CredentialsLookup;
  readonly #authorize: (identity: AuthIdentity, aor: Aor) => boolean | Promise<boolean>;

  constructor(options: DigestRegistrarAuthenticatorOptions) {
    this.#credentials = options.credentials;
    this.#authorize = options.authorize ?? sameUser;
    this.#digest =
      options.digest ??
      new DigestServer({ realm: requestHost, ...options.digestOptions, mode: 'www' });
  }

  async authenticate(request: SipRequest): Promise<AuthOutcome> {
    const verdict = await this.#digest.verify(request, async (username, realm, algorithm) => {
      const c = await this.#credentials(username, realm);
      if (c === undefined) return undefined;
      return 'ha1' in c ? c.ha1 : computeHa1(algorithm, username, realm, c.password);
    });
    if (!verdict.ok) return { ok: false, response: verdict.response };
    return { ok: true, identity: { username: verdict.username, realm: verdict.realm } };
  }

  authorize(identity: AuthIdentity, aor: Aor): boolean | Promise<boolean> {
    return this.#authorize(identity, aor);
  }
}
