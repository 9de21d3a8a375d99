import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Scope } from '../store/table-spec.js';
import type { JsonSchema } from './json-schema.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface ApiRoute {
  method: HttpMethod;
  /** Path under /v1 in fastify form (`/users/:id`). */
  url: string;
  summary: string;
  tag: string;
  /** Scope the API key needs; undefined = public. */
  scope: Scope | undefined;
  schema: { body?: JsonSchema; querystring?: JsonSchema; params?: JsonSchema };
  response?: JsonSchema;
  successStatus?: number;
  produces?: string[];
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/** Routes registered with fastify and remembered for the OpenAPI document. */
export class RouteRegistry {
  readonly routes: ApiRoute[] = [];

  add(
    app: FastifyInstance,
    route: ApiRoute,
    preHandler?: (scope: Scope) => (req: FastifyRequest) => Promise<void>,
  ): void {
    this.routes.push(route);
    const options: Record<string, unknown> = { schema: route.schema };
    if (route.scope !== undefined && preHandler !== undefined)
      options['preHandler'] = preHandler(route.scope);
    app.route({ method: route.method, url: route.url, ...options, handler: route.handler });
  }
}
