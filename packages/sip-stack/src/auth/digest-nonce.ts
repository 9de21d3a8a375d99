import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthConfigError } from './auth-config-error.js';

export type DigestSecret = string | Uint8Array;

export interface DigestNonceOptions {
  /** Key(s) for the nonce HMAC; the first mints new nonces, the rest are still accepted (rotation). */
  secrets: readonly DigestSecret[];
  /** Wall-clock milliseconds; must agree across every node that validates the nonces. */
  now: () => number;
  /** Accepted clock skew for nonces minted "in the future" by another node (ms). */
  maxSkewMs?: number;
}

export type NonceCheck = { valid: true; issuedAt: number } | { valid: false };

const TS_LEN = 8;
const RAND_LEN = 8;
const MAC_LEN = 32;
const NONCE_LEN = TS_LEN + RAND_LEN + MAC_LEN;

/**
 * Stateless nonces: base64url(timestamp ‖ random ‖ HMAC-SHA256(secret, timestamp ‖ random ‖ realm)).
 * A nonce is checked without server state; binding the realm stops reuse across realms
 * (RFC 7616 §5.4 / §5.5: the server chooses how nonces are built and how long they live).
 */
export class DigestNonce {
  #secrets: Buffer[];
  #now: () => number;
  #maxSkewMs: number;

  constructor(options: DigestNonceOptions) {
    if (options.secrets.length === 0)
      throw new AuthConfigError('DigestNonce needs at least one secret');
    this.#secrets = options.secrets.map((s) =>
      typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s),
    );
    this.#now = options.now;
    this.#maxSkewMs = options.maxSkewMs ?? 5000;
  }

  create(realm: string): string {
    const buf = Buffer.alloc(NONCE_LEN);
    buf.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.#now()))), 0);
    randomBytes(RAND_LEN).copy(buf, TS_LEN);
    this.#mac(this.#secrets[0] as Buffer, buf.subarray(0, TS_LEN + RAND_LEN), realm).copy(
      buf,
      TS_LEN + RAND_LEN,
    );
    return buf.toString('base64url');
  }

  /** Checks integrity and realm binding; freshness is the caller's policy (see `issuedAt`). */
  check(nonce: string, realm: string): NonceCheck {
    if (nonce.length !== Math.ceil((NONCE_LEN * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(nonce))
      return { valid: false };
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_LEN) return { valid: false };
    const body = buf.subarray(0, TS_LEN + RAND_LEN);
    const mac = buf.subarray(TS_LEN + RAND_LEN);
    const ok = this.#secrets.some((s) => timingSafeEqual(this.#mac(s, body, realm), mac));
    if (!ok) return { valid: false };
    const issuedAt = Number(buf.readBigUInt64BE(0));
    if (issuedAt > this.#now() + this.#maxSkewMs) return { valid: false };
    return { valid: true, issuedAt };
  }

  /** An opaque value bound to the realm, checkable without state (RFC 7616 §3.3 `opaque`). */
  opaque(realm: string): string {
    return this.#opaqueWith(this.#secrets[0] as Buffer, realm);
  }

  checkOpaque(opaque: string, realm: string): boolean {
    return this.#secrets.some((s) => this.#opaqueWith(s, realm) === opaque);
  }

  #opaqueWith(secret: Buffer, realm: string): string {
    return createHmac('sha256', secret)
      .update('opaque\0')
      .update(realm, 'utf8')
      .digest()
      .subarray(0, 12)
      .toString('base64url');
  }

  #mac(secret: Buffer, body: Buffer, realm: string): Buffer {
    return createHmac('sha256', secret).update(body).update(realm, 'utf8').digest();
  }
}
