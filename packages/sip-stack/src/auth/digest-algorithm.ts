import { createHash, hash } from 'node:crypto';

/** The digest algorithms this stack implements (RFC 7616 §6.1, RFC 8760 §2). */
export type DigestAlgorithm =
  'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

export type DigestQop = 'auth' | 'auth-int';

/**
 * Every algorithm, strongest first: the order a server offers challenges in and a client prefers them
 * (RFC 8760 §2.4). Non-session variants come before their `-sess` twin.
 */
export const DIGEST_ALGORITHMS = Object.freeze([
  'SHA-512-256',
  'SHA-512-256-sess',
  'SHA-256',
  'SHA-256-sess',
  'MD5',
  'MD5-sess',
] as const satisfies readonly DigestAlgorithm[]);

// node:crypto names. 'sha512-256' is the real SHA-512/256 of FIPS 180-4 §5.3.6 (own IV), not a truncation.
const NODE_HASH = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
} as const;

type DigestFamily = keyof typeof NODE_HASH;

const BY_LOWER = new Map<string, DigestAlgorithm>(
  DIGEST_ALGORITHMS.map((a) => [a.toLowerCase(), a]),
);

/** Canonical algorithm for a token, case-insensitively (RFC 7616 §3.3: "MD5", "SHA-256-sess"...). */
export function parseDigestAlgorithm(token: string): DigestAlgorithm | undefined {
  return BY_LOWER.get(token.toLowerCase());
}

export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess');
}

const FAMILY: Readonly<Record<DigestAlgorithm, DigestFamily>> = {
  MD5: 'MD5',
  'MD5-sess': 'MD5',
  'SHA-256': 'SHA-256',
  'SHA-256-sess': 'SHA-256',
  'SHA-512-256': 'SHA-512-256',
  'SHA-512-256-sess': 'SHA-512-256',
};

function family(algorithm: DigestAlgorithm): DigestFamily {
  return FAMILY[algorithm];
}

/** H(data) as lowercase hex, with the hash of the algorithm's family (RFC 7616 §3.4.1). */
export function digestHash(algorithm: DigestAlgorithm, data: string | Uint8Array): string {
  // one-shot hash (Node >= 20.12): no Hash object per call; strings hashed as UTF-8 either way
  if (typeof data === 'string') return hash(NODE_HASH[family(algorithm)], data, 'hex');
  const h = createHash(NODE_HASH[family(algorithm)]);
  h.update(data);
  return h.digest('hex');
}

/**
 * Base HA1 = H(username ":" realm ":" password) (RFC 7616 §3.4.2). For `-sess` algorithms this is
 * still the base value: the session HA1 needs nonce and cnonce and is derived in
 * `computeDigestResponse`. Strings are hashed as UTF-8 (RFC 7616 §4).
 */
export function computeHa1(
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
  password: string,
): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

/** RFC 7616 §3.4.4: userhash = H(username ":" realm). */
export function computeUserhash(
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
): string {
  return digestHash(algorithm, `${username}:${realm}`);
}

export interface DigestResponseParams {
  algorithm: DigestAlgorithm;
  /** Base HA1 for the algorithm's family (see `computeHa1`). */
  ha1: string;
  nonce: string;
  cnonce?: string;
  /** nonce-count, 8 hex digits as sent on the wire. */
  nc?: string;
  qop?: DigestQop;
  method: string;
  /** digest-uri exactly as sent in the `uri` parameter. */
  uri: string;
  /** H(entity-body) hex, required for qop auth-int (RFC 7616 §3.4.3). */
  bodyHash?: string;
}

/** H(A2) per algorithm family for `Method ":" digest-uri`: the same few values on every request. */
const HA2_MEMO: Record<DigestFamily, Map<string, string>> = {
  MD5: new Map(),
  'SHA-256': new Map(),
  'SHA-512-256': new Map(),
};
const MAX_HA2_MEMO = 1024;
const MAX_MEMO_A2_LENGTH = 256;

/** H(A2) for qop auth or none, remembered (bounded): it depends only on the method and the uri. */
function ha2Auth(alg: DigestAlgorithm, a2: string): string {
  if (a2.length > MAX_MEMO_A2_LENGTH) return digestHash(alg, a2);
  const memo = HA2_MEMO[family(alg)];
  let v = memo.get(a2);
  if (v === undefined) {
    v = digestHash(alg, a2);
    if (memo.size >= MAX_HA2_MEMO) memo.clear();
    memo.set(a2, v);
  }
  return v;
}

/**
 * The `response` value (RFC 7616 §3.4.1; RFC 2617 §3.2.2.1; RFC 2069 form when no qop).
 * Never throws for missing cnonce/nc: they are treated as empty strings, which simply yields a
 * response no peer will match; validation of presence belongs to the parsers.
 */
export function computeDigestResponse(p: DigestResponseParams): string {
  const alg = p.algorithm;
  const cnonce = p.cnonce ?? '';
  // RFC 7616 §3.4.2: -sess: HA1 = H(H(user:realm:pass) ":" nonce ":" cnonce)
  const ha1 = isSessionAlgorithm(alg) ? digestHash(alg, `${p.ha1}:${p.nonce}:${cnonce}`) : p.ha1;
  // RFC 7616 §3.4.3: auth-int: A2 = Method ":" request-uri ":" H(entity-body)
  const ha2 =
    p.qop === 'auth-int'
      ? digestHash(alg, `${p.method}:${p.uri}:${p.bodyHash ?? digestHash(alg, '')}`)
      : ha2Auth(alg, `${p.method}:${p.uri}`);
  // RFC 2069 compatibility (RFC 2617 §3.2.2.1): no qop → H(HA1:nonce:HA2)
  if (p.qop === undefined) return digestHash(alg, `${ha1}:${p.nonce}:${ha2}`);
  return digestHash(alg, `${ha1}:${p.nonce}:${p.nc ?? ''}:${cnonce}:${p.qop}:${ha2}`);
}

/** ASCII letters folded to lower case without a branch on the character. */
function foldCase(c: number): number {
  return c | ((((0x40 - c) & (c - 0x5b)) >>> 31) << 5);
}

/**
 * Comparison of two hex digests (case-insensitive, as hex is) in time that depends only on the
 * length: no early exit, no branch on the characters.
 */
export function digestEquals(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= foldCase(a.charCodeAt(i)) ^ foldCase(b.charCodeAt(i));
  return diff === 0;
}
