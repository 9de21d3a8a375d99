/**
 * Digest authentication at the edge with the brain as the judge of credentials (DESIGN.md "The
 * brain and the edge"): the edge's DigestServer issues challenges and checks nonce integrity,
 * freshness (stale) and nonce-count replay; the brain checks the response against the device's
 * stored HA1s and whether the device may use the service.
 */
import {
  DigestServer,
  createResponse,
  digestHash,
  isSipUri,
  parseAuthParams,
  parseDigestCredentials,
  parseUri,
  type DigestAlgorithm,
  type DigestCredentials,
  type DigestMode,
  type DigestNonceAccepted,
  type DigestSecret,
  type SipRequest,
  type SipResponse,
} from '@switchboard/sip-stack';
import type { AuthDecision, AuthRequest, Brain } from '../brain/brain.js';

export interface BrainDigestOptions {
  brain: Brain;
  /** 'www': REGISTER (401, realm = Request-URI domain); 'proxy': calls (407, realm = From domain). */
  mode: DigestMode;
  /** Offered algorithms (default SHA-256 and MD5). */
  algorithms?: readonly DigestAlgorithm[];
  /** Nonce HMAC key; share it between nodes. Default random. */
  secret?: DigestSecret;
  nonceTtlMs?: number;
}

export type BrainDigestResult =
  | {
      ok: true;
      username: string;
      realm: string;
      accountId: string;
      userId: string;
      deviceId: string;
    }
  | { ok: false; response: SipResponse; reason: string };

function hostOf(uri: string): string {
  const r = parseUri(uri);
  return r.ok && isSipUri(r.uri) ? r.uri.host.toLowerCase() : '';
}

/** The realm of a request: the domain the user belongs to. */
export function realmOf(request: SipRequest, mode: DigestMode): string {
  if (mode === 'proxy') return hostOf(request.from.uri);
  // the Request-URI the parser already parsed (cached on the message)
  const ruri = request.requestUri;
  return isSipUri(ruri) ? ruri.host.toLowerCase() : '';
}

export class BrainDigest {
  readonly #brain: Brain;
  readonly #digest: DigestServer;
  readonly #header: 'Authorization' | 'Proxy-Authorization';

  constructor(options: BrainDigestOptions) {
    this.#brain = options.brain;
    this.#header = options.mode === 'www' ? 'Authorization' : 'Proxy-Authorization';
    this.#digest = new DigestServer({
      realm: (request) => realmOf(request, options.mode),
      mode: options.mode,
      algorithms: options.algorithms ?? ['SHA-256', 'MD5'],
      ...(options.secret === undefined ? {} : { secret: options.secret }),
      ...(options.nonceTtlMs === undefined ? {} : { nonceTtlMs: options.nonceTtlMs }),
    });
  }

  /** A 401/407 with a fresh challenge for the request's realm. */
  challenge(request: SipRequest): SipResponse {
    return this.#digest.challengeResponse(request);
  }

  /** Credential lines of other realms (RFC 3261 §22.3: a proxy removes only its own). */
  otherCredentials(request: SipRequest): string[] {
    const realm = realmOf(request, this.#digest.mode);
    return request.headers.getAll(this.#header).filter((line) => {
      const p = parseAuthParams(line);
      return !(p.ok && p.value.params.get('realm')?.value === realm);
    });
  }

  /** True when the request carries credentials for our realm. */
  hasCredentials(request: SipRequest): boolean {
    return this.#ownCredentials(request) !== undefined;
  }

  /**
   * The verdict on the request's credentials: at once when the edge can judge alone (no or bad
   * credentials: a challenge or a 400), else when the brain has answered.
   */
  verify(request: SipRequest): BrainDigestResult | Promise<BrainDigestResult> {
    // Nonce integrity, opaque, digest-uri and qop checks here; the response is the brain's to judge.
    const checked = this.#digest.checkNonce(request);
    if (!checked.ok)
      return {
        ok: false,
        response: checked.response,
        reason: checked.reason === 'missing' ? 'no credentials' : checked.detail,
      };
    let decided: Promise<AuthDecision>;
    try {
      decided = this.#brain.authenticate(authRequest(request, checked.credentials));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return decided.then((decision) => this.#decided(request, checked, decision));
  }

  #decided(
    request: SipRequest,
    checked: DigestNonceAccepted,
    decision: AuthDecision,
  ): BrainDigestResult {
    const creds = checked.credentials;
    if (!decision.ok) {
      // RFC 3261 §22.1: wrong credentials get a new challenge; a refused device gets its status.
      const response =
        decision.status === 401 || decision.status === 407
          ? this.challenge(request)
          : createResponse(request, decision.status);
      return { ok: false, response, reason: decision.reason };
    }
    // RFC 7616 §3.3/§3.4: a correct response on an old nonce is stale; a reused nonce-count a replay.
    const confirmed = this.#digest.confirm(request, checked);
    if (!confirmed.ok) return { ok: false, response: confirmed.response, reason: confirmed.detail };
    return {
      ok: true,
      username: creds.username,
      realm: creds.realm,
      accountId: decision.accountId,
      userId: decision.userId,
      deviceId: decision.deviceId,
    };
  }

  #ownCredentials(request: SipRequest): DigestCredentials | undefined {
    const realm = realmOf(request, this.#digest.mode);
    for (const line of request.headers.getAll(this.#header)) {
      const c = parseDigestCredentials(line);
      if (c.ok && c.value.realm.toLowerCase() === realm) return c.value;
    }
    return undefined;
  }
}

function authRequest(request: SipRequest, c: DigestCredentials): AuthRequest {
  const req: AuthRequest = {
    method: request.method,
    username: c.username,
    realm: c.realm,
    nonce: c.nonce,
    uri: c.uri,
    response: c.response,
    algorithm: c.algorithm,
  };
  if (c.cnonce !== undefined) req.cnonce = c.cnonce;
  if (c.nc !== undefined) req.nc = c.nc;
  if (c.qop !== undefined) req.qop = c.qop;
  if (c.qop === 'auth-int') req.bodyHash = digestHash(c.algorithm, request.body);
  return req;
}
