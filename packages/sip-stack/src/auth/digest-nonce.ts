import { createHmac, hash, randomBytes } from 'node:crypto';
import { AuthConfigError } from './auth-config-error.js';

export type DigestSecret = string | Uint8Array;

export interface DigestNonceOptions {
  /** Key(s) for the nonce MAC; the first mints new nonces, the rest are still accepted (rotation). */
  secrets: readonly DigestSecret[];
  /** Wall-clock milliseconds; must agree across every node that validates the nonces. */
  now: () => number;
  /** Accepted clock skew for nonces minted "in the future" by another node (ms). */
  maxSkewMs?: number;
}

export type NonceCheck = { valid: true; issuedAt: number } | { valid: false };

/** timestamp (8) ‖ salt (6) ‖ counter (4): 18 bytes, 24 base64url characters. */
const BODY_LEN = 18;
const BODY_CHARS = 24;
/** The first 30 bytes of the MAC, 40 base64url characters. */
const MAC_CHARS = 40;
const NONCE_CHARS = BODY_CHARS + MAC_CHARS;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TWO_32 = 0x1_0000_0000;
/** Nonces this instance minted last, remembered to check them without hashing (power of 2). */
const MINTED_RING = 4096;
/** Opaque values remembered per realm before the memo is cleared (bounded memory). */
const MAX_OPAQUE_MEMO = 1024;

/** HMAC pads of one secret, as strings (see `macKey`). */
interface MacKey {
  secret: Buffer;
  ipad: string;
  opad: string;
}

/**
 * The HMAC pads of a secret as ASCII strings, so that a MAC is two one-shot `crypto.hash` calls
 * on strings (no Hmac object, no Buffer per nonce). The HMAC key is the 64 hex characters of
 * SHA-256(secret): one block, every byte 0x30-0x66, so key ⊕ 0x36 and key ⊕ 0x5c stay ASCII and
 * hash as the same bytes in UTF-8 (RFC 2104 §2 with K = hex(SHA-256(secret))).
 */
function macKey(secret: DigestSecret): MacKey {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const key = hash('sha256', bytes, 'hex');
  let ipad = '';
  let opad = '';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    ipad += String.fromCharCode(c ^ 0x36);
    opad += String.fromCharCode(c ^ 0x5c);
  }
  return { secret: bytes, ipad, opad };
}

/** Equal strings, compared in time that depends on the length only. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Stateless nonces: base64url(timestamp ‖ unique) ‖ MAC(secret, that text ‖ realm), where MAC is
 * HMAC-SHA256 (inner digest carried as base64, output truncated to 240 bits) keyed as `macKey`
 * says. `unique` is a per-instance random salt and a counter (no random bytes drawn per nonce):
 * unique per instance, unpredictable to peers through the MAC. A nonce is checked without server
 * state; binding the realm stops reuse across realms (RFC 7616 §5.4 / §5.5: the server chooses how
 * nonces are built and how long they live).
 *
 * The last nonces minted here are remembered in a ring indexed by their counter: a client answers
 * a challenge within a round trip, so its nonce is usually still there and is checked by string
 * comparison instead of two hashes. Anything else is checked by its MAC, as every node can.
 */
export class DigestNonce {
  #keys: MacKey[];
  #now: () => number;
  #maxSkewMs: number;
  #salt = randomBytes(6);
  #counter = 0;
  /** Flips when the counter wraps and a new salt starts (see `id`). */
  #odd = false;
  readonly #body = Buffer.alloc(BODY_LEN);
  /** The body of the nonce being checked, decoded. */
  readonly #decoded = Buffer.alloc(BODY_LEN);
  readonly #opaqueMemo = new Map<string, string>();
  /** Nonce and realm minted with counter c, at c % MINTED_RING (same salt only). */
  readonly #minted: (string | undefined)[] = new Array<string | undefined>(MINTED_RING);
  readonly #mintedRealm: (string | undefined)[] = new Array<string | undefined>(MINTED_RING);

  constructor(options: DigestNonceOptions) {
    if (options.secrets.length === 0)
      throw new AuthConfigError('DigestNonce needs at least one secret');
    this.#keys = options.secrets.map(macKey);
    this.#now = options.now;
    this.#maxSkewMs = options.maxSkewMs ?? 5000;
  }

  /**
   * A fresh nonce for `realm`. The realm string is remembered with the nonce for a while: pass
   * one of your own, not a slice of a message.
   */
  create(realm: string): string {
    const buf = this.#body;
    const ms = Math.max(0, Math.floor(this.#now()));
    buf.writeUInt32BE(Math.floor(ms / TWO_32) >>> 0, 0);
    buf.writeUInt32BE(ms >>> 0, 4);
    if (this.#counter === 0xffff_ffff) {
      this.#counter = 0;
      this.#salt = randomBytes(6);
      this.#odd = !this.#odd;
      this.#minted.fill(undefined);
      this.#mintedRealm.fill(undefined);
    }
    this.#salt.copy(buf, 8);
    const counter = ++this.#counter;
    buf.writeUInt32BE(counter, 14);
    const body = buf.toString('base64url');
    const nonce = body + mac(this.#keys[0] as MacKey, body, realm);
    const slot = counter & (MINTED_RING - 1);
    this.#minted[slot] = nonce;
    this.#mintedRealm[slot] = realm;
    return nonce;
  }

  /** Checks integrity and realm binding; freshness is the caller's policy (see `issuedAt`). */
  check(nonce: string, realm: string): NonceCheck {
    if (nonce.length !== NONCE_CHARS || !BASE64URL.test(nonce)) return { valid: false };
    const own = this.#decode(nonce);
    const buf = this.#decoded;
    if (own === undefined || !this.#wasMinted(nonce, own, realm)) {
      const body = nonce.slice(0, BODY_CHARS);
      const sent = nonce.slice(BODY_CHARS);
      if (!this.#keys.some((key) => sameText(mac(key, body, realm), sent))) return { valid: false };
    }
    const issuedAt = buf.readUInt32BE(0) * TWO_32 + buf.readUInt32BE(4);
    if (issuedAt > this.#now() + this.#maxSkewMs) return { valid: false };
    return { valid: true, issuedAt };
  }

  /**
   * A short identity of a nonce that `check` found valid, for replay tracking: its counter when
   * this instance minted it with the current salt (negated every other salt, so that counters of
   * the salt before never meet the new ones), else its body (timestamp, salt, counter), which a
   * valid MAC makes unique.
   */
  id(nonce: string): number | string {
    const counter = this.#decode(nonce);
    if (counter === undefined) return nonce.slice(0, BODY_CHARS);
    return this.#odd ? -counter : counter;
  }

  /** Decodes the body into #decoded; the counter when the salt is ours. */
  #decode(nonce: string): number | undefined {
    const buf = this.#decoded;
    if (buf.write(nonce.slice(0, BODY_CHARS), 0, BODY_LEN, 'base64url') !== BODY_LEN)
      return undefined;
    return this.#salt.compare(buf, 8, 14) === 0 ? buf.readUInt32BE(14) : undefined;
  }

  #wasMinted(nonce: string, counter: number, realm: string): boolean {
    const slot = counter & (MINTED_RING - 1);
    return this.#minted[slot] === nonce && this.#mintedRealm[slot] === realm;
  }

  /** An opaque value bound to the realm, checkable without state (RFC 7616 §3.3 `opaque`). */
  opaque(realm: string): string {
    let v = this.#opaqueMemo.get(realm);
    if (v === undefined) {
      v = opaqueWith((this.#keys[0] as MacKey).secret, realm);
      if (this.#opaqueMemo.size >= MAX_OPAQUE_MEMO) this.#opaqueMemo.clear();
      this.#opaqueMemo.set(realm, v);
    }
    return v;
  }

  checkOpaque(opaque: string, realm: string): boolean {
    if (this.opaque(realm) === opaque) return true;
    return this.#keys.slice(1).some((k) => opaqueWith(k.secret, realm) === opaque);
  }
}

/** HMAC-SHA256 of `body ‖ realm` (see `macKey`), first 240 bits as base64url. */
function mac(key: MacKey, body: string, realm: string): string {
  const inner = hash('sha256', key.ipad + body + realm, 'base64');
  return hash('sha256', key.opad + inner, 'base64url').slice(0, MAC_CHARS);
}

function opaqueWith(secret: Buffer, realm: string): string {
  return createHmac('sha256', secret)
    .update('opaque\0')
    .update(realm, 'utf8')
    .digest()
    .subarray(0, 12)
    .toString('base64url');
}
