/**
 * Secrets (trunk passwords, tokens, PINs, webhook keys) are stored encrypted and referenced by a
 * `*_secret_ref` id; the clear value is never in a configuration row (DESIGN.md "Where state lives").
 */
export interface SecretStore {
  /** Encrypt and store; returns the reference (`sec_...`). */
  put(accountId: string | null, plaintext: string): Promise<string>;
  /** Decrypt; undefined when the reference is unknown or the ciphertext fails authentication. */
  get(ref: string): Promise<string | undefined>;
  delete(ref: string): Promise<void>;
}
