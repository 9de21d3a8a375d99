import { computeDigestResponse } from '@switchboard/sip-stack';
import type { DeviceCredentials, Directory } from '../store/directory.js';
import type { AuthDecision, AuthRequest, DigestAlgorithmName } from './brain.js';

const ALGORITHMS: readonly DigestAlgorithmName[] = [
  'MD5',
  'MD5-sess',
  'SHA-256',
  'SHA-256-sess',
  'SHA-512-256',
  'SHA-512-256-sess',
];
const MAX_FIELD = 1024;

/** ASCII letters folded to lower case without a branch on the character. */
function foldCase(c: number): number {
  return c | ((((0x40 - c) & (c - 0x5b)) >>> 31) << 5);
}

/** Hex digests equal case-insensitively, in time that depends only on the length. */
function hexEquals(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= foldCase(a.charCodeAt(i)) ^ foldCase(b.charCodeAt(i));
  return diff === 0;
}

function badRequest(reason: string): AuthDecision {
  return { ok: false, code: 'CTL_ERR_VALIDATION', reason, status: 400 };
}

/** Shape check of untrusted credentials; returns a reason when they are unusable. */
function shapeError(req: AuthRequest): string | undefined {
  for (const name of ['method', 'username', 'realm', 'nonce', 'uri', 'response'] as const) {
    const v = req[name] as unknown;
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_FIELD)
      return `${name} must be a non-empty string`;
  }
  if (req.algorithm !== undefined && !ALGORITHMS.includes(req.algorithm))
    return `algorithm ${String(req.algorithm)} is not supported`;
  if (req.qop !== undefined && req.qop !== 'auth' && req.qop !== 'auth-int')
    return 'qop must be auth or auth-int';
  if (req.qop !== undefined && (req.cnonce === undefined || req.nc === undefined))
    return 'qop requires cnonce and nc'; // RFC 7616 §3.4
  return undefined;
}

/** The stored HA1 matching the algorithm family; `user@domain` usernames use ha1b (MD5 only). */
function ha1For(
  cred: DeviceCredentials,
  algorithm: DigestAlgorithmName,
  withDomain: boolean,
): string | undefined {
  if (algorithm.startsWith('SHA-512-256')) return withDomain ? undefined : cred.ha1Sha512_256;
  if (algorithm.startsWith('SHA-256')) return withDomain ? undefined : cred.ha1Sha256;
  return withDomain ? cred.ha1b : cred.ha1;
}

/**
 * Verifies a digest response against the device found by (auth_username, realm). Nonce freshness
 * and nonce-count replay are the edge's DigestServer's job; the brain checks who it is and
 * whether the device, user, domain and account may use the service.
 */
export class Authenticator {
  #directory: Directory;

  constructor(directory: Directory) {
    this.#directory = directory;
  }

  authenticate(req: AuthRequest): Promise<AuthDecision> {
    try {
      const problem = shapeError(req);
      if (problem !== undefined) return Promise.resolve(badRequest(problem));
      const realm = req.realm.toLowerCase();
      const at = req.username.indexOf('@');
      const withDomain = at > 0 && req.username.slice(at + 1).toLowerCase() === realm;
      const authUsername = withDomain ? req.username.slice(0, at) : req.username;
      return this.#directory
        .deviceCredentials(authUsername, realm)
        .then((cred) => decide(req, cred, withDomain));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/** The verdict on `req` once the device's credentials were read. */
function decide(
  req: AuthRequest,
  cred: DeviceCredentials | undefined,
  withDomain: boolean,
): AuthDecision {
  if (cred === undefined)
    return { ok: false, code: 'CTL_ERR_UNKNOWN_DEVICE', reason: 'unknown device', status: 403 };
  const algorithm = req.algorithm ?? 'MD5'; // RFC 7616 §3.3: absent algorithm means MD5
  const ha1 = ha1For(cred, algorithm, withDomain);
  if (ha1 === undefined)
    return {
      ok: false,
      code: 'CTL_ERR_AUTH_FAILED',
      reason: 'no digest stored for this algorithm',
      status: 401,
    };
  const params: Parameters<typeof computeDigestResponse>[0] = {
    algorithm,
    ha1,
    nonce: req.nonce,
    method: req.method,
    uri: req.uri,
  };
  if (req.cnonce !== undefined) params.cnonce = req.cnonce;
  if (req.nc !== undefined) params.nc = req.nc;
  if (req.qop !== undefined) params.qop = req.qop;
  if (req.bodyHash !== undefined) params.bodyHash = req.bodyHash;
  if (!hexEquals(computeDigestResponse(params), req.response)) {
    return { ok: false, code: 'CTL_ERR_AUTH_FAILED', reason: 'wrong credentials', status: 401 };
  }
  if (cred.accountStatus !== 'active') {
    return {
      ok: false,
      code: 'CTL_ERR_ACCOUNT_DISABLED',
      reason: `account is ${cred.accountStatus}`,
      status: 403,
    };
  }
  if (!cred.deviceActive || !cred.userActive || !cred.domainActive) {
    return {
      ok: false,
      code: 'CTL_ERR_FORBIDDEN',
      reason: 'device, user or domain is disabled',
      status: 403,
    };
  }
  return { ok: true, accountId: cred.accountId, userId: cred.userId, deviceId: cred.deviceId };
}
