import { CTL_ERRORS } from '../errors/ctl-errors.js';
import { ERROR_SCHEMA } from './json-schema.js';
import type { JsonSchema } from './json-schema.js';
import type { ApiRoute } from './route-registry.js';

/** Convert a JSON-schema type array with 'null' to OpenAPI 3.0 `nullable`. */
function toOpenApiSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toOpenApiSchema);
  if (typeof s !== 'object' || s === null) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) out[k] = toOpenApiSchema(v);
  const type = out['type'];
  if (Array.isArray(type) && type.includes('null')) {
    const rest = type.filter((t) => t !== 'null');
    out['type'] = rest.length === 1 ? rest[0] : rest;
    out['nullable'] = true;
    if (Array.isArray(out['enum']))
      out['enum'] = (out['enum'] as unknown[]).filter((e) => e !== null);
  }
  return out;
}

function parameters(route: ApiRoute): unknown[] {
  const out: unknown[] = [];
  const add = (where: 'path' | 'query', schema: JsonSchema | undefined) => {
    const props = (schema?.['properties'] ?? {}) as Record<string, JsonSchema>;
    const required = (schema?.['required'] ?? []) as string[];
    for (const [name, s] of Object.entries(props)) {
      out.push({
        name,
        in: where,
        required: where === 'path' || required.includes(name),
        schema: toOpenApiSchema(s),
      });
    }
  };
  add('path', route.schema.params);
  add('query', route.schema.querystring);
  return out;
}

/** The OpenAPI 3 document of /v1, built from the registered routes and their schemas. */
export function buildOpenApi(
  routes: readonly ApiRoute[],
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = `/v1${r.url.replace(/:([a-z_]+)/g, '{$1}')}`;
    const status = String(r.successStatus ?? 200);
    const content: Record<string, unknown> = {};
    for (const type of r.produces ?? ['application/json'])
      content[type] = {
        schema:
          type === 'application/json'
            ? toOpenApiSchema(r.response ?? { type: 'object' })
            : { type: 'string' },
      };
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+/g, '_')}`,
      parameters: parameters(r),
      responses: {
        [status]: { description: 'success', content },
        default: {
          description: 'error: { code, message }',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
    if (r.schema.body !== undefined)
      op['requestBody'] = {
        required: true,
        content: { 'application/json': { schema: toOpenApiSchema(r.schema.body) } },
      };
    if (r.scope !== undefined) {
      op['security'] = [{ apiKey: [] }];
      op['x-required-scope'] = r.scope;
    }
    paths[path] = { ...(paths[path] ?? {}), [r.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Switchboard provisioning API',
      version,
      description: `Error codes: ${Object.keys(CTL_ERRORS).join(', ')}`,
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'API key sk_...' },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}
