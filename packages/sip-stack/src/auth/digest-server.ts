import { randomBytes } from 'node:crypto';
import { createResponse } from '../message/build-response.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { parseUri, uriEquals } from '../message/sip-uri.js';
import type { Clock } from '../util/clock.js';
import {
  DIGEST_ALGORITHMS,
  computeDigestResponse,
  digestEquals,
  digestHash,
  type DigestAlgorithm,
  type DigestQop,
  type DigestResponseParams,
} from './digest-algorithm.js';
import { AuthConfigError } from './auth-config-error.js';
import { ChallengeTemplates } from './challenge-templates.js';
import {
  credentialsFromFields,
  digestCredentialsFrom,
  type DigestCredentials,
  type DigestCredentialsResult,
} from './digest-credentials.js';
import { readDigestFields } from './read-digest-fields.js';
import { DigestNonce, type DigestSecret } from './digest-nonce.js';
import { NonceCountWindow } from './nonce-count-window.js';
import { parseAuthParams } from './parse-auth-params.js';

/** 'www': 401 + WWW-Authenticate / Authorization (UAS, registrar); 'proxy': 407 + Proxy-* (RFC 3261 §22.3). */
export type DigestMode = 'www' | 'proxy';

export type DigestFailureReason =
  | 'missing'
  | 'malformed'
  | 'unknown-user'
  | 'bad-response'
  | 'stale'
  | 'replay'
  | 'realm-mismatch'
  | 'uri-mismatch';

/** Base HA1 (see computeHa1) for a user, or undefined when unknown. May be async. */
export type Ha1Lookup = (
  username: string,
  realm: string,
  algorithm: DigestAlgorithm,
) => string | undefined | Promise<string | undefined>;

/** Resolves a hashed username (RFC 7616 §3.4.4) to the user and its base HA1. */
export type UserhashLookup = (
  userhash: string,
  realm: string,
  algorithm: DigestAlgorithm,
) =>
  | { username: string; ha1: string }
  | undefined
  | Promise<{ username: string; ha1: string } | undefined>;

export type DigestVerifyResult =
  | {
      ok: true;
      username: string;
      realm: string;
      algorithm: DigestAlgorithm;
      credentials: DigestCredentials;
    }
  | { ok: false; reason: DigestFailureReason; detail: string; response: SipResponse };

/** Nonce, opaque and request checks passed; the response itself is still to be judged. */
export interface DigestNonceAccepted {
  ok: true;
  realm: string;
  credentials: DigestCredentials;
  /** When the nonce was minted (ms), for the freshness check of `confirm`. */
  issuedAt: number;
}

export type DigestNonceCheck =
  | DigestNonceAccepted
  | { ok: false; reason: DigestFailureReason; detail: string; response: SipResponse };

export interface DigestServerOptions {
  /** The protection realm, or a function choosing it per request (e.g. from the To domain). */
  realm: string | ((request: SipRequest) => string);
  mode?: DigestMode;
  /** HMAC key(s) for nonces; share them across nodes. Default: random per instance. */
  secret?: DigestSecret | readonly DigestSecret[];
  /** Offered algorithms, one challenge each in this order of preference (RFC 8760 §2.4). Default SHA-256, MD5. */
  algorithms?: readonly DigestAlgorithm[];
  /** Offered qop values (default ['auth']). */
  qop?: readonly DigestQop[];
  /** Nonce lifetime before a correct response gets stale=true (default 300 s). */
  nonceTtlMs?: number;
  /** Wall clock (ms) shared by every node validating nonces; default Date.now. */
  clock?: Pick<Clock, 'now'>;
  /** Replay tracking bounds (see NonceCountWindow). */
  maxTrackedNonces?: number;
  ncWindow?: number;
  /** Accept RFC 2069 responses without qop (no replay protection). Default false. */
  allowNoQop?: boolean;
  /** Send and check opaque (default true). */
  opaque?: boolean;
  /** Check the digest-uri against the Request-URI (default true). */
  checkUri?: boolean;
  /** Enables userhash=true in challenges and hashed usernames in credentials. */
  userhashLookup?: UserhashLookup;
}

export interface DigestChallengeHeaders {
  status: 401 | 407;
  name: 'WWW-Authenticate' | 'Proxy-Authenticate';
  values: string[];
}

const wallClock = { now: () => Date.now() };

/** badRequest: answer 400 instead of a new challenge. */
interface Failure {
  fail: DigestFailureReason;
  detail: string;
  badRequest?: boolean;
}

type Found = { creds: DigestCredentials } | Failure;

/**
 * Digest authentication for a UAS, registrar or proxy (RFC 3261 §22, RFC 7616, RFC 8760):
 * stateless HMAC nonces, stale=true for expired nonces with a correct response, nonce-count
 * replay protection in bounded memory. verify() never throws on peer input.
 */
export class DigestServer {
  #realm: string | ((request: SipRequest) => string);
  #mode: DigestMode;
  #nonces: DigestNonce;
  #algorithms: DigestAlgorithm[];
  #qop: DigestQop[];
  #nonceTtlMs: number;
  #clock: Pick<Clock, 'now'>;
  #window: NonceCountWindow;
  #allowNoQop: boolean;
  #opaque: boolean;
  #checkUri: boolean;
  #userhashLookup: UserhashLookup | undefined;
  readonly #templates: ChallengeTemplates;

  constructor(options: DigestServerOptions) {
    this.#realm = options.realm;
    this.#mode = options.mode ?? 'www';
    this.#clock = options.clock ?? wallClock;
    const secrets =
      options.secret === undefined
        ? [randomBytes(32)]
        : Array.isArray(options.secret)
          ? options.secret
          : [options.secret];
    this.#nonces = new DigestNonce({
      secrets: secrets as DigestSecret[],
      now: () => this.#clock.now(),
    });
    // RFC 8760 §2.4: one challenge per algorithm, in the server's order of preference.
    const offered: readonly DigestAlgorithm[] = options.algorithms ?? ['SHA-256', 'MD5'];
    this.#algorithms = [...new Set(offered)].filter((a) => DIGEST_ALGORITHMS.includes(a));
    if (this.#algorithms.length === 0)
      throw new AuthConfigError('DigestServer needs at least one algorithm');
    this.#qop = [...(options.qop ?? ['auth'])];
    this.#nonceTtlMs = options.nonceTtlMs ?? 300_000;
    this.#window = new NonceCountWindow({
      ...(options.maxTrackedNonces !== undefined ? { maxNonces: options.maxTrackedNonces } : {}),
      ...(options.ncWindow !== undefined ? { window: options.ncWindow } : {}),
    });
    this.#allowNoQop = options.allowNoQop ?? false;
    this.#opaque = options.opaque ?? true;
    this.#checkUri = options.checkUri ?? true;
    this.#userhashLookup = options.userhashLookup;
    this.#templates = new ChallengeTemplates({
      algorithms: this.#algorithms,
      qop: this.#qop,
      opaque: this.#opaque ? (realm) => this.#nonces.opaque(realm) : undefined,
      userhash: this.#userhashLookup !== undefined,
    });
  }

  get mode(): DigestMode {
    return this.#mode;
  }

  realmFor(request: SipRequest): string {
    return typeof this.#realm === 'string' ? this.#realm : this.#realm(request);
  }

  /** Challenge header values, one per offered algorithm, in order of preference (RFC 8760 §2.4). */
  challenge(realm: string, options: { stale?: boolean } = {}): DigestChallengeHeaders {
    const templates = this.#templates.of(realm);
    const values = templates.values(this.#nonces.create(templates.realm), options.stale === true);
    return this.#mode === 'www'
      ? { status: 401, name: 'WWW-Authenticate', values }
      : { status: 407, name: 'Proxy-Authenticate', values };
  }

  /** A 401/407 response to `request` carrying a fresh challenge. */
  challengeResponse(request: SipRequest, options: { stale?: boolean } = {}): SipResponse {
    const c = this.challenge(this.realmFor(request), options);
    const headers =
      c.status === 401 ? { 'WWW-Authenticate': c.values } : { 'Proxy-Authenticate': c.values };
    return createResponse(request, c.status, undefined, { headers });
  }

  /** RFC 3261 §22.3: a proxy removes its own Proxy-Authorization before forwarding; others stay. */
  stripOwnCredentials(request: SipRequest): void {
    const name = this.#credentialsHeader();
    const realm = this.realmFor(request);
    const keep = request.headers.getAll(name).filter((v) => {
      const p = parseAuthParams(v);
      return !(
        p.ok &&
        p.value.scheme.toLowerCase() === 'digest' &&
        p.value.params.get('realm')?.value === realm
      );
    });
    if (keep.length === 0) request.headers.delete(name);
    else request.headers.set(name, keep);
  }

  async verify(request: SipRequest, lookup: Ha1Lookup): Promise<DigestVerifyResult> {
    const checked = this.checkNonce(request);
    if (!checked.ok) return checked;
    const c = checked.credentials;
    const user = await this.#lookupUser(c, checked.realm, lookup);
    if (user === undefined)
      return this.#fail(request, { fail: 'unknown-user', detail: 'no such user' });
    const params: DigestResponseParams = {
      algorithm: c.algorithm,
      ha1: user.ha1,
      nonce: c.nonce,
      method: request.method,
      uri: c.uri,
    };
    if (c.qop !== undefined) {
      params.qop = c.qop;
      params.nc = c.nc ?? '';
      params.cnonce = c.cnonce ?? '';
      if (c.qop === 'auth-int') params.bodyHash = digestHash(c.algorithm, request.body);
    }
    const expected = computeDigestResponse(params);
    if (!digestEquals(expected, c.response))
      return this.#fail(request, { fail: 'bad-response', detail: 'response mismatch' });
    const confirmed = this.confirm(request, checked);
    return confirmed.ok ? { ...confirmed, username: user.username } : confirmed;
  }

  /**
   * First half of `verify` for a server whose HA1s live elsewhere (a control plane judging the
   * response): finds our credentials and checks the request, the nonce's integrity and the
   * opaque. After the response was found correct, call `confirm`.
   */
  checkNonce(request: SipRequest): DigestNonceCheck {
    const realm = this.realmFor(request);
    const found = this.#findCredentials(request, realm);
    if ('fail' in found) return this.#fail(request, found);
    const c = found.creds;
    const pre = this.#precheck(request, c);
    if (pre !== undefined) return this.#fail(request, pre);
    const nonce = this.#nonces.check(c.nonce, realm);
    // RFC 7616 §3.3: a nonce we did not issue (or a forged one) is not "stale": new credentials needed
    if (!nonce.valid)
      return this.#fail(request, { fail: 'bad-response', detail: 'nonce not issued here' });
    if (this.#opaque && c.opaque !== undefined && !this.#nonces.checkOpaque(c.opaque, realm)) {
      return this.#fail(request, { fail: 'bad-response', detail: 'opaque mismatch' });
    }
    return { ok: true, realm, credentials: c, issuedAt: nonce.issuedAt };
  }

  /**
   * Second half of `verify`, once the response was found correct: nonce freshness (stale=true)
   * and nonce-count replay. Records the nonce-count, so call it once per request.
   */
  confirm(request: SipRequest, checked: DigestNonceAccepted): DigestVerifyResult {
    const c = checked.credentials;
    // RFC 7616 §3.3 stale: the response was right but the nonce is too old → same user may retry
    if (this.#clock.now() - checked.issuedAt > this.#nonceTtlMs)
      return this.#fail(request, { fail: 'stale', detail: 'nonce expired' }, true);
    if (c.qop !== undefined) {
      const verdict = this.#window.accept(
        this.#nonces.id(c.nonce),
        checked.issuedAt,
        parseInt(c.nc ?? '0', 16),
      );
      // RFC 7616 §3.4: a repeated nonce-count is a replay; answer with a fresh nonce (stale=true)
      if (verdict === 'replay')
        return this.#fail(request, { fail: 'replay', detail: 'nonce-count reused' }, true);
      if (verdict === 'forgotten')
        return this.#fail(request, { fail: 'stale', detail: 'nonce no longer tracked' }, true);
    }
    return {
      ok: true,
      username: c.username,
      realm: checked.realm,
      algorithm: c.algorithm,
      credentials: c,
    };
  }

  #credentialsHeader(): 'Authorization' | 'Proxy-Authorization' {
    return this.#mode === 'www' ? 'Authorization' : 'Proxy-Authorization';
  }

  /** The Digest credentials for our realm among the request's Authorization lines. */
  #findCredentials(request: SipRequest, realm: string): Found {
    const lines = request.headers.getAll(this.#credentialsHeader());
    if (lines.length === 0) return { fail: 'missing', detail: 'no credentials' };
    let malformed: string | undefined;
    let digestSeen = false;
    for (const line of lines) {
      const fields = readDigestFields(line);
      if (fields !== undefined) {
        digestSeen = true;
        // RFC 3261 §22.3: credentials for other realms belong to other proxies
        if (fields.realm !== realm) continue;
        return foundCredentials(credentialsFromFields(fields));
      }
      const p = parseAuthParams(line);
      if (!p.ok) {
        malformed ??= p.reason;
        continue;
      }
      if (p.value.scheme.toLowerCase() !== 'digest') continue;
      digestSeen = true;
      // RFC 3261 §22.3: credentials for other realms belong to other proxies
      if (p.value.params.get('realm')?.value !== realm) continue;
      return foundCredentials(digestCredentialsFrom(p.value));
    }
    if (malformed !== undefined) return { fail: 'malformed', detail: malformed, badRequest: true };
    return digestSeen
      ? { fail: 'realm-mismatch', detail: 'no credentials for this realm' }
      : { fail: 'missing', detail: 'no Digest credentials' };
  }

  #precheck(request: SipRequest, c: DigestCredentials): Failure | undefined {
    if (!this.#algorithms.includes(c.algorithm))
      return { fail: 'malformed', detail: `algorithm ${c.algorithm} not offered` };
    if (c.qop === undefined) {
      // RFC 3261 §22.4 / RFC 2617 §3.2.2: RFC 2069 clients send no qop; accepted only if configured
      if (!this.#allowNoQop) return { fail: 'malformed', detail: 'qop required' };
    } else if (!this.#qop.includes(c.qop)) {
      return { fail: 'malformed', detail: `qop ${c.qop} not offered` };
    } else if (parseInt(c.nc ?? '0', 16) < 1) {
      return { fail: 'malformed', detail: 'nc must start at 1' };
    }
    if (c.userhash === true && this.#userhashLookup === undefined)
      return { fail: 'unknown-user', detail: 'userhash not supported' };
    // RFC 3261 §22.4 / RFC 2617 §3.2.2.5: digest-uri must identify the Request-URI, else 400
    if (this.#checkUri && !sameUri(c.uri, request.uri))
      return { fail: 'uri-mismatch', detail: `uri ${c.uri}`, badRequest: true };
    return undefined;
  }

  async #lookupUser(
    c: DigestCredentials,
    realm: string,
    lookup: Ha1Lookup,
  ): Promise<{ username: string; ha1: string } | undefined> {
    try {
      if (c.userhash === true)
        return (await this.#userhashLookup?.(c.username, realm, c.algorithm)) ?? undefined;
      const ha1 = await lookup(c.username, realm, c.algorithm);
      return ha1 === undefined ? undefined : { username: c.username, ha1 };
    } catch {
      return undefined; // a failing store is treated as an unknown user, never as success
    }
  }

  #fail(
    request: SipRequest,
    f: Failure,
    stale = false,
  ): { ok: false; reason: DigestFailureReason; detail: string; response: SipResponse } {
    const response =
      f.badRequest === true
        ? createResponse(request, 400)
        : this.challengeResponse(request, { stale });
    return { ok: false, reason: f.fail, detail: f.detail, response };
  }
}

/** RFC 7235 §3.1 / RFC 7616 §3.4: unparseable credentials get 400, an unknown algorithm a new challenge. */
function foundCredentials(creds: DigestCredentialsResult): Found {
  if (creds.ok) return { creds: creds.value };
  return {
    fail: 'malformed',
    detail: creds.reason,
    badRequest: !creds.reason.startsWith('unsupported algorithm'),
  };
}

/** RFC 3261 §19.1.4 equality when both parse, exact text otherwise. */
function sameUri(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  const a = parseUri(digestUri);
  const b = parseUri(requestUri);
  return a.ok && b.ok && uriEquals(a.uri, b.uri);
}
