import { parseDigestAlgorithm, type DigestAlgorithm, type DigestQop } from './digest-algorithm.js';
import { parseAuthParams, quoteString } from './parse-auth-params.js';

/** A parsed WWW-Authenticate / Proxy-Authenticate value with scheme Digest (RFC 7616 §3.3). */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** MD5 when the parameter is absent (RFC 7616 §3.3). */
  algorithm: DigestAlgorithm;
  /** Offered qop values this stack knows; undefined when the challenge has no qop (RFC 2069 style). */
  qop?: DigestQop[];
  opaque?: string;
  stale: boolean;
  domain?: string;
  /** RFC 7616 §3.3: the server supports hashed usernames. */
  userhash: boolean;
}

export type DigestChallengeResult =
  { ok: true; value: DigestChallenge } | { ok: false; reason: string };

/** Parses one challenge value. Unknown algorithms are an error; unknown qop options are dropped. */
export function parseDigestChallenge(value: string): DigestChallengeResult {
  const parsed = parseAuthParams(value);
  if (!parsed.ok) return parsed;
  const { scheme, params } = parsed.value;
  if (scheme.toLowerCase() !== 'digest')
    return { ok: false, reason: `scheme ${scheme} is not Digest` };
  const realm = params.get('realm')?.value;
  const nonce = params.get('nonce')?.value;
  if (realm === undefined || nonce === undefined)
    return { ok: false, reason: 'missing realm or nonce' };
  const algToken = params.get('algorithm')?.value;
  const algorithm = algToken === undefined ? 'MD5' : parseDigestAlgorithm(algToken);
  if (algorithm === undefined)
    return { ok: false, reason: `unsupported algorithm ${algToken ?? ''}` };
  const challenge: DigestChallenge = {
    realm,
    nonce,
    algorithm,
    stale: params.get('stale')?.value.toLowerCase() === 'true',
    userhash: params.get('userhash')?.value.toLowerCase() === 'true',
  };
  const qop = params.get('qop')?.value;
  if (qop !== undefined) {
    // RFC 7616 §3.3: qop-options is a quoted, comma-separated list of tokens
    const known = qop
      .split(',')
      .map((q) => q.trim().toLowerCase())
      .filter((q): q is DigestQop => q === 'auth' || q === 'auth-int');
    challenge.qop = [...new Set(known)];
  }
  const opaque = params.get('opaque')?.value;
  if (opaque !== undefined) challenge.opaque = opaque;
  const domain = params.get('domain')?.value;
  if (domain !== undefined) challenge.domain = domain;
  return { ok: true, value: challenge };
}

/** Formats a challenge value (RFC 7616 §3.3: realm, domain, nonce, opaque, qop quoted; others tokens). */
export function formatDigestChallenge(c: DigestChallenge): string {
  const parts = [`realm=${quoteString(c.realm)}`];
  if (c.domain !== undefined) parts.push(`domain=${quoteString(c.domain)}`);
  parts.push(`nonce=${quoteString(c.nonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quoteString(c.opaque)}`);
  if (c.stale) parts.push('stale=true');
  parts.push(`algorithm=${c.algorithm}`);
  if (c.qop !== undefined && c.qop.length > 0) parts.push(`qop=${quoteString(c.qop.join(','))}`);
  if (c.userhash) parts.push('userhash=true');
  return `Digest ${parts.join(', ')}`;
}
