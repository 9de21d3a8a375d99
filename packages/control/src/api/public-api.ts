import type { FastifyInstance } from 'fastify';
import type { ConfigStore } from '../store/config-store.js';
import { TABLE_SPECS } from '../store/table-specs.js';
import { registerCallRoutes } from './calls-routes.js';
import { registerCrudRoutes } from './crud-routes.js';
import { buildOpenApi } from './openapi.js';
import { RouteRegistry } from './route-registry.js';

export interface PublicApiOptions {
  store: ConfigStore;
  version?: string;
}

/** The public REST API (mounted at /v1): CRUD for every operator-edited table, calls, OpenAPI. */
export function registerPublicApi(app: FastifyInstance, options: PublicApiOptions): Promise<void> {
  const registry = new RouteRegistry();
  for (const spec of TABLE_SPECS) registerCrudRoutes(app, options.store, registry, spec);
  registerCallRoutes(app, options.store, registry);
  const doc = buildOpenApi(registry.routes, options.version ?? '0.1.0');
  app.get('/openapi.json', () => doc);
  return Promise.resolve();
}
