import { randomBytes } from 'node:crypto';
import { generateBranch } from '../message/ids.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { formatVia } from '../message/via.js';
import {
  DIGEST_ALGORITHMS,
  computeDigestResponse,
  computeHa1,
  computeUserhash,
  digestHash,
  type DigestAlgorithm,
  type DigestQop,
} from './digest-algorithm.js';
import { parseDigestChallenge, type DigestChallenge } from './digest-challenge.js';
import { formatDigestCredentials } from './digest-credentials.js';
import { parseAuthParams } from './parse-auth-params.js';

/** A user's secret for one realm (or any realm when `realm` is absent). */
export interface DigestUserCredentials {
  username: string;
  password: string;
  realm?: string;
}

export type DigestCredentialsProvider = (realm: string) => DigestUserCredentials | undefined;

export type DigestCredentialSource =
  DigestUserCredentials | readonly DigestUserCredentials[] | DigestCredentialsProvider;

export interface DigestClientOptions {
  credentials?: DigestCredentialSource;
  /** Algorithms we accept; the strongest offered one is used (RFC 8760 §2.4). Default: all. */
  algorithms?: readonly DigestAlgorithm[];
  /** Realms whose challenge state is kept for later requests (default 32). */
  maxRealms?: number;
}

export type DigestAuthorizeFailure =
  'no-challenge' | 'unsupported' | 'no-credentials' | 'rejected' | 'not-retryable';

export type DigestAuthorizeResult =
  { ok: true; request: SipRequest } | { ok: false; reason: DigestAuthorizeFailure; detail: string };

type HeaderKind = 'www' | 'proxy';
const CHALLENGE_HEADER = { www: 'WWW-Authenticate', proxy: 'Proxy-Authenticate' } as const;
const CREDENTIALS_HEADER = { www: 'Authorization', proxy: 'Proxy-Authorization' } as const;

/** What is kept per realm to answer later requests without a new challenge (RFC 3261 §22.3). */
interface RealmState {
  kind: HeaderKind;
  challenge: DigestChallenge;
  qop: DigestQop | undefined;
  username: string;
  ha1: string;
  nc: number;
}

/**
 * Answers 401/407 challenges (RFC 3261 §22.2, §22.3; RFC 7616 §3.4): one credentials header per
 * challenged realm with the strongest algorithm offered, a new CSeq and Via branch, and nonce
 * state kept per realm so later requests can carry credentials up front.
 */
export class DigestClient {
  #source: DigestCredentialSource | undefined;
  #supported: DigestAlgorithm[];
  #maxRealms: number;
  #realms = new Map<string, RealmState>();
  /** Requests whose credentials came from the cache, not from answering a challenge: one retry allowed. */
  #preemptive = new WeakSet<SipRequest>();

  constructor(options: DigestClientOptions = {}) {
    this.#source = options.credentials;
    const allowed = new Set(options.algorithms ?? DIGEST_ALGORITHMS);
    this.#supported = DIGEST_ALGORITHMS.filter((a) => allowed.has(a));
    this.#maxRealms = Math.max(1, options.maxRealms ?? 32);
  }

  /**
   * The request to send after `response` (401/407) challenged `request`: a clone with
   * Authorization / Proxy-Authorization for every challenged realm we have credentials for,
   * CSeq + 1 (RFC 3261 §22.2) and a new top Via branch (new transaction, §8.1.1.7).
   */
  authorize(
    request: SipRequest,
    response: SipResponse,
    credentials?: DigestCredentialSource,
  ): DigestAuthorizeResult {
    // RFC 3261 §22.1: ACK and CANCEL are never challenged or resubmitted
    if (request.method === 'ACK' || request.method === 'CANCEL') {
      return {
        ok: false,
        reason: 'not-retryable',
        detail: `${request.method} cannot be resubmitted`,
      };
    }
    const source = credentials ?? this.#source;
    const answers = new Map<string, { kind: HeaderKind; value: string }>();
    let seen = 0;
    let failure: { reason: DigestAuthorizeFailure; detail: string } | undefined;
    for (const kind of ['www', 'proxy'] as const) {
      const byRealm = this.#challenges(response, kind);
      for (const [realm, challenges] of byRealm) {
        seen++;
        const chosen = this.#choose(challenges);
        if (chosen === undefined) {
          failure ??= {
            reason: 'unsupported',
            detail: `no supported algorithm/qop for realm ${realm}`,
          };
          continue;
        }
        // RFC 3261 §22.2: credentials already sent for this realm and the challenge is not stale → rejected
        if (
          !chosen.stale &&
          !this.#preemptive.has(request) &&
          hasCredentialsFor(request, kind, realm)
        ) {
          return {
            ok: false,
            reason: 'rejected',
            detail: `credentials for realm ${realm} were refused`,
          };
        }
        const user = pickCredentials(source, realm);
        if (user === undefined) {
          failure ??= { reason: 'no-credentials', detail: `no credentials for realm ${realm}` };
          continue;
        }
        const state = this.#remember(kind, chosen, user);
        answers.set(`${kind} ${realm}`, { kind, value: this.#credentialsFor(state, request) });
      }
    }
    if (answers.size === 0) {
      return failure !== undefined
        ? { ok: false, ...failure }
        : {
            ok: false,
            reason: 'no-challenge',
            detail: `no Digest challenge in ${seen === 0 ? 'response' : 'realms'}`,
          };
    }
    return { ok: true, request: this.#resubmit(request, answers) };
  }

  /** Adds credentials from earlier challenges to a new request (nc incremented); returns it. */
  applyCachedCredentials(request: SipRequest, realm?: string): SipRequest {
    for (const state of this.#realms.values()) {
      if (realm !== undefined && state.challenge.realm !== realm) continue;
      if (hasCredentialsFor(request, state.kind, state.challenge.realm)) continue;
      request.headers.append(CREDENTIALS_HEADER[state.kind], this.#credentialsFor(state, request));
      this.#preemptive.add(request);
    }
    return request;
  }

  /** Drops the cached nonce state of one realm, or of all. */
  forget(realm?: string): void {
    if (realm === undefined) this.#realms.clear();
    else for (const [k, s] of this.#realms) if (s.challenge.realm === realm) this.#realms.delete(k);
  }

  #challenges(response: SipResponse, kind: HeaderKind): Map<string, DigestChallenge[]> {
    const out = new Map<string, DigestChallenge[]>();
    for (const value of response.headers.getAll(CHALLENGE_HEADER[kind])) {
      const c = parseDigestChallenge(value);
      if (!c.ok) continue; // other schemes and unknown algorithms are skipped
      const list = out.get(c.value.realm);
      if (list === undefined) out.set(c.value.realm, [c.value]);
      else list.push(c.value);
    }
    return out;
  }

  /** RFC 8760 §2.4: the strongest algorithm we support among the realm's challenges. */
  #choose(challenges: DigestChallenge[]): DigestChallenge | undefined {
    let best: DigestChallenge | undefined;
    for (const c of challenges) {
      if (!this.#supported.includes(c.algorithm) || selectQop(c) === null) continue;
      if (
        best === undefined ||
        DIGEST_ALGORITHMS.indexOf(c.algorithm) < DIGEST_ALGORITHMS.indexOf(best.algorithm)
      )
        best = c;
    }
    return best;
  }

  #remember(kind: HeaderKind, challenge: DigestChallenge, user: DigestUserCredentials): RealmState {
    const key = `${kind} ${challenge.realm}`;
    const previous = this.#realms.get(key);
    const state: RealmState = {
      kind,
      challenge,
      qop: selectQop(challenge) ?? undefined,
      username: user.username,
      ha1: computeHa1(challenge.algorithm, user.username, challenge.realm, user.password),
      // RFC 7616 §3.4: nc counts requests per nonce; a repeated nonce keeps its count
      nc: previous?.challenge.nonce === challenge.nonce ? previous.nc : 0,
    };
    this.#realms.delete(key);
    this.#realms.set(key, state);
    while (this.#realms.size > this.#maxRealms) {
      const oldest = this.#realms.keys().next();
      if (oldest.done === true) break;
      this.#realms.delete(oldest.value);
    }
    return state;
  }

  /** RFC 7616 §3.4: response over method, Request-URI and (auth-int) body; nc counts per nonce. */
  #credentialsFor(state: RealmState, request: SipRequest): string {
    const { challenge, qop } = state;
    const alg = challenge.algorithm;
    state.nc++;
    const nc = qop === undefined ? undefined : state.nc.toString(16).padStart(8, '0');
    const cnonce = qop === undefined ? undefined : randomBytes(12).toString('base64url');
    const response = computeDigestResponse({
      algorithm: alg,
      ha1: state.ha1,
      nonce: challenge.nonce,
      method: request.method,
      uri: request.uri,
      ...(qop !== undefined && nc !== undefined && cnonce !== undefined ? { qop, nc, cnonce } : {}),
      ...(qop === 'auth-int' ? { bodyHash: digestHash(alg, request.body) } : {}),
    });
    // RFC 7616 §3.4.4: with userhash=true the username is sent hashed
    const username = challenge.userhash
      ? computeUserhash(alg, state.username, challenge.realm)
      : state.username;
    return formatDigestCredentials({
      username,
      realm: challenge.realm,
      nonce: challenge.nonce,
      uri: request.uri,
      response,
      algorithm: alg,
      ...(cnonce !== undefined ? { cnonce } : {}),
      ...(challenge.opaque !== undefined ? { opaque: challenge.opaque } : {}),
      ...(qop !== undefined && nc !== undefined ? { qop, nc } : {}),
      ...(challenge.userhash ? { userhash: true } : {}),
    });
  }

  #resubmit(
    request: SipRequest,
    answers: Map<string, { kind: HeaderKind; value: string }>,
  ): SipRequest {
    const next = request.clone();
    for (const kind of ['www', 'proxy'] as const) {
      const realms = new Set(
        [...answers.keys()]
          .filter((k) => k.startsWith(`${kind} `))
          .map((k) => k.slice(kind.length + 1)),
      );
      if (realms.size === 0) continue;
      const name = CREDENTIALS_HEADER[kind];
      const kept = next.headers.getAll(name).filter((v) => !realms.has(realmOf(v) ?? ''));
      const added = [...answers.values()].filter((a) => a.kind === kind).map((a) => a.value);
      next.headers.set(name, [...kept, ...added]);
    }
    // RFC 3261 §22.2: the resubmitted request MUST have a new CSeq number
    next.headers.set('CSeq', `${request.cseq.seq + 1} ${request.method}`);
    // RFC 3261 §8.1.1.7: a new request is a new transaction, so a new branch
    const via = next.topVia;
    if (via !== undefined)
      next.setTopVia(formatVia({ ...via, params: new Map(via.params), branch: generateBranch() }));
    return next;
  }
}

/** RFC 7616 §3.4: qop from the offered list ('auth' preferred); undefined = no qop offered; null = unusable. */
function selectQop(c: DigestChallenge): DigestQop | undefined | null {
  if (c.qop === undefined) return undefined;
  if (c.qop.includes('auth')) return 'auth';
  if (c.qop.includes('auth-int')) return 'auth-int';
  return null;
}

function realmOf(value: string): string | undefined {
  const p = parseAuthParams(value);
  return p.ok && p.value.scheme.toLowerCase() === 'digest'
    ? p.value.params.get('realm')?.value
    : undefined;
}

function hasCredentialsFor(request: SipRequest, kind: HeaderKind, realm: string): boolean {
  return request.headers.getAll(CREDENTIALS_HEADER[kind]).some((v) => realmOf(v) === realm);
}

function pickCredentials(
  source: DigestCredentialSource | undefined,
  realm: string,
): DigestUserCredentials | undefined {
  if (source === undefined) return undefined;
  if (typeof source === 'function') return source(realm);
  const list: readonly DigestUserCredentials[] = Array.isArray(source)
    ? source
    : [source as DigestUserCredentials];
  return list.find((c) => c.realm === realm) ?? list.find((c) => c.realm === undefined);
}
