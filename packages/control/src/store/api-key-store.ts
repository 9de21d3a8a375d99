import type { Scope } from './table-spec.js';

export interface ApiKeyPrincipal {
  keyId: string;
  accountId: string;
  scopes: readonly Scope[];
}

/** API keys are stored as SHA-256 hashes; the clear key is shown once at creation. */
export interface ApiKeyStore {
  /** The principal of an active key of an active account, or undefined. */
  verify(key: string): Promise<ApiKeyPrincipal | undefined>;
  /** Create a key (CLI, first start). Returns the clear key once. */
  create(
    accountId: string,
    name: string,
    scopes: readonly Scope[],
  ): Promise<{ id: string; key: string }>;
}
