import type { FastifyRequest } from 'fastify';
import { CtlError } from '../errors/ctl-errors.js';
import type { ApiKeyPrincipal } from '../store/api-key-store.js';
import type { ConfigStore } from '../store/config-store.js';
import type { Scope } from '../store/table-spec.js';

export interface RequestPrincipal extends ApiKeyPrincipal {
  /** The key's account and every account below it in the reseller tree. */
  accounts: readonly string[];
}

const principals = new WeakMap<FastifyRequest, RequestPrincipal>();

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h === 'string' && h.startsWith('Bearer ')) return h.slice(7).trim();
  const k = request.headers['x-api-key'];
  return typeof k === 'string' ? k : undefined;
}

export function hasScope(p: ApiKeyPrincipal, scope: Scope): boolean {
  return p.scopes.includes('*') || p.scopes.includes(scope);
}

/** preHandler factory: a valid `sk_...` key (401 otherwise) holding `scope` (403 naming it otherwise). */
export function requireScope(store: ConfigStore) {
  return (scope: Scope) =>
    async (request: FastifyRequest): Promise<void> => {
      const key = bearer(request);
      if (key === undefined)
        throw new CtlError('CTL_ERR_UNAUTHORIZED', 'send an API key: Authorization: Bearer sk_...');
      const principal = await store.apiKeys.verify(key);
      if (principal === undefined)
        throw new CtlError('CTL_ERR_UNAUTHORIZED', 'the API key is unknown or disabled');
      if (!hasScope(principal, scope))
        throw new CtlError('CTL_ERR_MISSING_SCOPE', `this API key lacks the '${scope}' scope`);
      principals.set(request, {
        ...principal,
        accounts: await store.accountSubtree(principal.accountId),
      });
    };
}

export function principalOf(request: FastifyRequest): RequestPrincipal {
  const p = principals.get(request);
  if (p === undefined) throw new CtlError('CTL_ERR_UNAUTHORIZED', 'not authenticated');
  return p;
}

/** The account a request acts on: the one named, if the key may reach it, else the key's own. */
export function actingAccount(p: RequestPrincipal, named: unknown): string {
  if (named === undefined || named === null) return p.accountId;
  if (typeof named !== 'string' || !p.accounts.includes(named)) {
    throw new CtlError(
      'CTL_ERR_FORBIDDEN',
      `account ${JSON.stringify(named)} is outside this API key's accounts`,
    );
  }
  return named;
}
