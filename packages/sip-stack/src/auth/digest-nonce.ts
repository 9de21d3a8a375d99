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
const NONCE_CHARS = Math.ceil((NONCE_LEN * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TWO_32 = 0x1_0000_0000;
/** Opaque values remembered per realm before the memo is cleared (bounded memory). */
const MAX_OPAQUE_MEMO = 1024;

/**
 * Stateless nonces: base64url(timestamp ‖ unique ‖ HMAC-SHA256(secret, timestamp ‖ unique ‖ realm)).
 * `unique` is a per-instance random salt and a counter (no random bytes drawn per nonce): unique
 * per instance, unpredictable to peers through the MAC. A nonce is checked without server state;
 * binding the realm stops reuse across realms (RFC 7616 §5.4 / §5.5: the server chooses how
 * nonces are built and how long they live).
 */
export class DigestNonce {
  #secrets: Buffer[];
  #now: () => number;
  #maxSkewMs: number;
  #salt = randomBytes(4).readUInt32BE(0);
  #counter = 0;
  readonly #opaqueMemo = new Map<string, string>();

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
    const buf = Buffer.allocUnsafe(NONCE_LEN);
    const ms = Math.max(0, Math.floor(this.#now()));
    buf.writeUInt32BE(Math.floor(ms / TWO_32) >>> 0, 0);
    buf.writeUInt32BE(ms >>> 0, 4);
    if (this.#counter === 0xffff_ffff) {
      this.#counter = 0;
      this.#salt = randomBytes(4).readUInt32BE(0);
    }
    buf.writeUInt32BE(this.#salt, TS_LEN);
    buf.writeUInt32BE(++this.#counter, TS_LEN + 4);
    this.#mac(this.#secrets[0] as Buffer, buf.subarray(0, TS_LEN + RAND_LEN), realm).copy(
      buf,
      TS_LEN + RAND_LEN,
    );
    return buf.toString('base64url');
  }

  /** Checks integrity and realm binding; freshness is the caller's policy (see `issuedAt`). */
  check(nonce: string, realm: string): NonceCheck {
    if (nonce.length !== NONCE_CHARS || !BASE64URL.test(nonce)) return { valid: false };
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_LEN) return { valid: false };
    const body = buf.subarray(0, TS_LEN + RAND_LEN);
    const mac = buf.subarray(TS_LEN + RAND_LEN);
    const ok = this.#secrets.some((s) => timingSafeEqual(this.#mac(s, body, realm), mac));
    if (!ok) return { valid: false };
    const issuedAt = buf.readUInt32BE(0) * TWO_32 + buf.readUInt32BE(4);
    if (issuedAt > this.#now() + this.#maxSkewMs) return { valid: false };
    return { valid: true, issuedAt };
  }

  /** An opaque value bound to the realm, checkable without state (RFC 7616 §3.3 `opaque`). */
  opaque(realm: string): string {
    let v = this.#opaqueMemo.get(realm);
    if (v === undefined) {
      v = this.#opaqueWith(this.#secrets[0] as Buffer, realm);
      if (this.#opaqueMemo.size >= MAX_OPAQUE_MEMO) this.#opaqueMemo.clear();
      this.#opaqueMemo.set(realm, v);
    }
    return v;
  }

  checkOpaque(opaque: string, realm: string): boolean {
    if (this.opaque(realm) === opaque) return true;
    return this.#secrets.slice(1).some((s) => this.#opaqueWith(s, realm) === opaque);
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
