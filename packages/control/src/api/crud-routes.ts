import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CtlError } from '../errors/ctl-errors.js';
import type { Result } from '../errors/ctl-errors.js';
import type {
  ConfigStore,
  PublicRow,
  TableRepository,
  WriteOutcome,
} from '../store/config-store.js';
import type { Scope, TableSpec } from '../store/table-spec.js';
import { SCOPES } from '../store/table-spec.js';
import { actingAccount, hasScope, principalOf, requireScope } from './api-auth.js';
import type { RequestPrincipal } from './api-auth.js';
import { ID_PARAMS, bodySchema, listQuerySchema, rowSchema } from './json-schema.js';
import type { RouteRegistry } from './route-registry.js';

function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw r.error;
  return r.value;
}

function ownerOf(spec: TableSpec, row: PublicRow): string {
  return String(spec.tenant ? row['account_id'] : row['id']);
}

function visible(
  spec: TableSpec,
  p: RequestPrincipal,
  row: PublicRow | undefined,
): row is PublicRow {
  return row !== undefined && p.accounts.includes(ownerOf(spec, row));
}

function present(out: WriteOutcome): PublicRow {
  return out.revealed === undefined ? out.row : { ...out.row, ...out.revealed };
}

/** A key may only mint keys with scopes it holds itself. */
function checkKeyScopes(p: RequestPrincipal, body: Record<string, unknown>): void {
  if (typeof body['scopes'] !== 'string') return;
  for (const s of body['scopes'].split(' ')) {
    if ((SCOPES as readonly string[]).includes(s) && !hasScope(p, s as Scope)) {
      throw new CtlError(
        'CTL_ERR_MISSING_SCOPE',
        `cannot grant the '${s}' scope this API key lacks`,
      );
    }
  }
}

function listHandler(spec: TableSpec, repo: TableRepository) {
  return async (request: FastifyRequest) => {
    const p = principalOf(request);
    const { limit, cursor, account_id, ...filters } = request.query as Record<
      string,
      string | undefined
    >;
    const accountIds = account_id === undefined ? p.accounts : [actingAccount(p, account_id)];
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(filters)) if (v !== undefined) clean[k] = v;
    const query = {
      accountIds,
      filters: clean,
      ...(limit === undefined ? {} : { limit: Number(limit) }),
      ...(cursor === undefined ? {} : { cursor }),
    };
    return unwrap(await repo.list(query));
  };
}

function createHandler(spec: TableSpec, repo: TableRepository) {
  return async (request: FastifyRequest, reply: { code(n: number): unknown }) => {
    const p = principalOf(request);
    const body = { ...(request.body as Record<string, unknown>) };
    if (spec.tenant) body['account_id'] = actingAccount(p, body['account_id']);
    else body['parent_id'] = actingAccount(p, body['parent_id']);
    if (spec.table === 'api_key') checkKeyScopes(p, body);
    const out = unwrap(await repo.create(body));
    reply.code(201);
    return present(out);
  };
}

/** create, list, get, update (PATCH), delete for one table spec, with its JSON schemas beside each route. */
export function registerCrudRoutes(
  app: FastifyInstance,
  store: ConfigStore,
  registry: RouteRegistry,
  spec: TableSpec,
): void {
  const repo = store.table(spec.table);
  const base = `/${spec.resource}`;
  const tag = spec.resource;
  const guard = requireScope(store);
  const find = async (request: FastifyRequest): Promise<PublicRow> => {
    const { id } = request.params as { id: string };
    const row = await repo.get(id);
    if (!visible(spec, principalOf(request), row))
      throw new CtlError('CTL_ERR_NOT_FOUND', `${spec.table} ${id} not found`);
    return row;
  };
  const scope = spec.scope;
  const response = rowSchema(spec);
  registry.add(
    app,
    {
      method: 'GET',
      url: base,
      tag,
      scope,
      summary: `List ${spec.resource}`,
      schema: { querystring: listQuerySchema(spec) },
      response,
      handler: listHandler(spec, repo),
    },
    guard,
  );
  registry.add(
    app,
    {
      method: 'POST',
      url: base,
      tag,
      scope,
      summary: `Create a ${spec.table}`,
      schema: { body: bodySchema(spec, 'create') },
      response,
      successStatus: 201,
      handler: createHandler(spec, repo),
    },
    guard,
  );
  registry.add(
    app,
    {
      method: 'GET',
      url: `${base}/:id`,
      tag,
      scope,
      summary: `Get a ${spec.table}`,
      schema: { params: ID_PARAMS },
      response,
      handler: find,
    },
    guard,
  );
  registry.add(
    app,
    {
      method: 'PATCH',
      url: `${base}/:id`,
      tag,
      scope,
      summary: `Update a ${spec.table}`,
      schema: { params: ID_PARAMS, body: bodySchema(spec, 'update') },
      response,
      handler: async (request) => {
        const row = await find(request);
        if (spec.table === 'api_key')
          checkKeyScopes(principalOf(request), request.body as Record<string, unknown>);
        return present(unwrap(await repo.update(String(row['id']), request.body)));
      },
    },
    guard,
  );
  registry.add(
    app,
    {
      method: 'DELETE',
      url: `${base}/:id`,
      tag,
      scope,
      summary: `Delete a ${spec.table}`,
      schema: { params: ID_PARAMS },
      handler: async (request) => {
        const row = await find(request);
        if (!spec.tenant && row['id'] === principalOf(request).accountId)
          throw new CtlError('CTL_ERR_FORBIDDEN', 'an API key cannot delete its own account');
        return { ...unwrap(await repo.remove(String(row['id']))), deleted: true };
      },
    },
    guard,
  );
}
